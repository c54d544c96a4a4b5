//! The string enums of Kili's API: [`LabelType`], [`InputType`], [`AssetStatus`],
//! [`IssueStatus`], [`IssueType`], [`WebhookHandler`], [`PluginLogType`].

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version of the crate does not know.
            Other(String),
        }

        impl $name {
            /// Returns the value as Kili spells it on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Other(s) => s,
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
                Ok(match s {
                    $($wire => $name::$variant,)+
                    other => $name::Other(other.to_owned()),
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                // FromStr for this type is infallible.
                Ok(s.parse().unwrap_or_else(|e: std::convert::Infallible| match e {}))
            }
        }
    };
}

string_enum! {
    /// The kind of a label.
    ///
    /// ```
    /// use kili::LabelType;
    /// assert_eq!("INFERENCE".parse::<LabelType>().unwrap(), LabelType::Inference);
    /// assert_eq!(LabelType::Review.as_str(), "REVIEW");
    /// assert_eq!("NEW".parse::<LabelType>().unwrap(), LabelType::Other("NEW".into()));
    /// ```
    LabelType {
        /// A label made by a labeler.
        Default => "DEFAULT",
        /// A label saved automatically while work is in progress.
        Autosave => "AUTOSAVE",
        /// A label made by a reviewer.
        Review => "REVIEW",
        /// A label made by a model and shown to labelers.
        Inference => "INFERENCE",
        /// A model's prediction (needs a model name).
        Prediction => "PREDICTION",
    }
}

string_enum! {
    /// The kind of data a project labels.
    ///
    /// ```
    /// assert_eq!(kili::InputType::Image.as_str(), "IMAGE");
    /// ```
    InputType {
        /// Images.
        Image => "IMAGE",
        /// Geospatial imagery.
        Geospatial => "GEOSPATIAL",
        /// PDF documents.
        Pdf => "PDF",
        /// Text.
        Text => "TEXT",
        /// Video.
        Video => "VIDEO",
        /// LLM RLHF.
        LlmRlhf => "LLM_RLHF",
        /// LLM instruction following.
        LlmInstrFollowing => "LLM_INSTR_FOLLOWING",
        /// Static LLM conversations.
        LlmStatic => "LLM_STATIC",
    }
}

string_enum! {
    /// Where an asset is in the labeling queue, as Kili's `status` field says.
    ///
    /// ```
    /// use kili::AssetStatus;
    /// assert_eq!("TO_REVIEW".parse::<AssetStatus>().unwrap(), AssetStatus::ToReview);
    /// assert_eq!(AssetStatus::Ongoing.as_str(), "ONGOING");
    /// ```
    AssetStatus {
        /// Not labeled yet.
        Todo => "TODO",
        /// Being labeled: a label was saved but not submitted, or the asset was sent back to
        /// the queue.
        Ongoing => "ONGOING",
        /// Labeled (a label was submitted).
        Labeled => "LABELED",
        /// Waiting for a review.
        ToReview => "TO_REVIEW",
        /// Reviewed.
        Reviewed => "REVIEWED",
    }
}

string_enum! {
    /// The state of an issue.
    ///
    /// ```
    /// assert_eq!(kili::IssueStatus::Open.as_str(), "OPEN");
    /// ```
    IssueStatus {
        /// Not dealt with yet.
        Open => "OPEN",
        /// Solved.
        Solved => "SOLVED",
        /// Cancelled.
        Cancelled => "CANCELLED",
    }
}

string_enum! {
    /// The kind of an issue: Kili's `Issue` objects are issues and questions.
    ///
    /// ```
    /// assert_eq!(kili::IssueType::Question.as_str(), "QUESTION");
    /// ```
    IssueType {
        /// An issue raised on a label or an asset.
        Issue => "ISSUE",
        /// A question asked about an asset.
        Question => "QUESTION",
    }
}

string_enum! {
    /// An event a webhook is called for (Kili's `PluginHandlerType`).
    ///
    /// ```
    /// assert_eq!(kili::WebhookHandler::OnSubmit.as_str(), "onSubmit");
    /// assert_eq!(kili::WebhookHandler::OnReview.to_string(), "onReview");
    /// ```
    WebhookHandler {
        /// A label was submitted (a `DEFAULT` label).
        OnSubmit => "onSubmit",
        /// A label was reviewed (a `REVIEW` label).
        OnReview => "onReview",
    }
}

string_enum! {
    /// The level of a line of a plugin's log.
    ///
    /// ```
    /// assert_eq!("ERROR".parse::<kili::PluginLogType>().unwrap(), kili::PluginLogType::Error);
    /// ```
    PluginLogType {
        /// Information (for a webhook: an event delivered).
        Info => "INFO",
        /// A warning.
        Warning => "WARNING",
        /// An error (for a webhook: a failed attempt, a delivery given up or dropped).
        Error => "ERROR",
    }
}
