//! The SDK's webhooks recipe (`recipes/webhooks_example.ipynb`) in Rust: a webhook checks each
//! submitted label, creates issues on a bad one and sends its asset back to the queue.
//!
//! ```text
//! cargo run --example webhook_recipe [-- --keep] [--public-url URL --listen ADDR]
//! ```
//!
//! Without `KILI_API_KEY` it runs on the embedded emulator, the receiver on loopback. With it,
//! it runs against Kili (`KILI_API_ENDPOINT`, Kili's cloud by default): Kili must reach the
//! receiver, so `--public-url` names the URL Kili POSTs to (a tunnel or a proxy to `--listen`,
//! `0.0.0.0:8080` by default), and it deletes the webhook and the project it created unless
//! `--keep`. `KILI_WEBHOOK_SECRET` sets the header Kili sends with each POST (a random one by
//! default).
//!
//! The steps: a project with one object detection job (OBJECT_A, OBJECT_B) and one asset; a
//! receiver with a secret; the webhook, registered with that secret as its header, and
//! activated on the project; a label with three OBJECT_A boxes. The handler finds two
//! problems (more than one box of OBJECT_A, and a box over a third of the image), creates an
//! issue for each and sends the asset back to the queue (ONGOING). Then a correct label, one
//! small box (the recipe's own "correct" label keeps its first box, 0.67 x 0.53 = 0.36 of the
//! image, over its own 0.33 rule; this one passes both), has no issue and the asset ends
//! LABELED. The issues are printed, the webhook deactivated and deleted, the project deleted.
//! Exit status 0 only if every step holds, 1 otherwise (the failed check is named), 2 for a
//! bad command line.

use std::process::ExitCode;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, unbounded};
use kili::{
    AssetQuery, AssetStatus, InputType, IssueQuery, Kili, LabelType, NewAssets, NewIssues,
    NewLabels, NewProject, NewWebhook, WebhookEvent, WebhookEventType, WebhookReceiver,
};
use kili_local_server::LocalServer;
use serde_json::{Value, json};

const CAR: &str = "https://storage.googleapis.com/label-public-staging/car/car_1.jpg";
/// How long the handler may take to see a label, on a slow network to Kili.
const PATIENCE: Duration = Duration::from_secs(60);
const USAGE: &str = "usage: webhook_recipe [--keep] [--public-url URL] [--listen ADDR]";

type Outcome<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

struct Args {
    keep: bool,
    public_url: Option<String>,
    listen: Option<String>,
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("kili=warn")).init();
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => {
            println!("All checks passed.");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("webhook recipe failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        keep: false,
        public_url: None,
        listen: None,
    };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--keep" => args.keep = true,
            "--public-url" => args.public_url = Some(it.next().ok_or("--public-url needs a URL")?),
            "--listen" => args.listen = Some(it.next().ok_or("--listen needs an address")?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// What the handler did with one label.
#[derive(Debug)]
struct Verdict {
    label_id: String,
    issues: usize,
}

fn run(args: &Args) -> Outcome<()> {
    let (_server, kili) = connect(args)?;
    // The header Kili sends back with every POST; against Kili, give a secret of your own.
    let secret = std::env::var("KILI_WEBHOOK_SECRET").unwrap_or_else(|_| {
        format!(
            "Bearer {:016x}{:016x}",
            fastrand::u64(..),
            fastrand::u64(..)
        )
    });
    let (verdicts_tx, verdicts) = unbounded();
    let handler_kili = kili.clone();
    let receiver = WebhookReceiver::builder(listen_addr(args), &secret)
        .path("/kili-webhook")
        .callback(move |event: &WebhookEvent| handle(&handler_kili, event, &verdicts_tx))?;
    let url = args.public_url.clone().unwrap_or_else(|| receiver.url());
    println!(
        "Receiver listening on {}; Kili will POST to {url}",
        receiver.local_addr()
    );

    let project = kili.create_project(
        &NewProject::new("Webhook recipe", InputType::Image).json_interface(interface()),
    )?;
    println!("Created project {project}");
    let outcome = steps(&kili, &project, &url, &secret, &verdicts);
    if args.keep {
        println!("Kept project {project} (--keep)");
    } else {
        let _ = kili.deactivate_plugin_on_project(&plugin_name(&project), &project);
        let _ = kili.delete_plugin(&plugin_name(&project));
        kili.delete_project(&project)?;
        println!("Deleted project {project}");
    }
    receiver.close()?;
    outcome
}

/// The steps after the project exists (it is deleted whether they succeed or not).
fn steps(
    kili: &Kili,
    project: &str,
    url: &str,
    secret: &str,
    verdicts: &Receiver<Verdict>,
) -> Outcome<()> {
    let asset = kili
        .append_many_to_dataset(&NewAssets::new(project, [CAR]).external_ids(["car_1"]))?
        .remove(0);
    let plugin = plugin_name(project);
    kili.create_webhook(&NewWebhook::new(&plugin, url).header(secret))?;
    kili.activate_plugin_on_project(&plugin, project)?;
    println!("Webhook {plugin} registered and activated");

    // A label with three boxes of OBJECT_A, the first one large: two issues.
    let bad = submit(kili, project, &asset, three_boxes())?;
    let verdict = wait_verdict(verdicts, &bad)?;
    check(
        verdict.issues == 2,
        format!("two issues on the three-box label, got {verdict:?}"),
    )?;
    check(
        status(kili, project, &asset)? == Some(AssetStatus::Ongoing),
        "the asset sent back to the queue (ONGOING)",
    )?;

    // A correct label: one small box.
    let good = submit(kili, project, &asset, one_small_box())?;
    let verdict = wait_verdict(verdicts, &good)?;
    check(
        verdict.issues == 0,
        format!("no issue on the correct label, got {verdict:?}"),
    )?;
    check(
        status(kili, project, &asset)? == Some(AssetStatus::Labeled),
        "the asset LABELED after the correct label",
    )?;

    let query = IssueQuery::new(project).fields(["id", "comments.text", "objectMid"]);
    let issues = kili.issues(&query)?.collect_all()?;
    check(
        issues.len() == 2,
        format!("two issues in the project, got {}", issues.len()),
    )?;
    for issue in &issues {
        println!(
            "Issue {}: {} (object {:?})",
            issue.id(),
            issue.extra()["comments"],
            issue.object_mid()
        );
    }
    kili.deactivate_plugin_on_project(&plugin, project)?;
    println!("Webhook deactivated");
    Ok(())
}

/// The webhook's handler, the recipe's checks: more than one OBJECT_A box is an issue; so is
/// each box over a third of the image. A label with issues sends its asset back to the queue.
fn handle(kili: &Kili, event: &WebhookEvent, verdicts: &Sender<Verdict>) -> Outcome<()> {
    if event.event_type() != &WebhookEventType::OnSubmit {
        return Ok(());
    }
    let (Some(label), Some(project)) = (event.label(), event.project_id()) else {
        return Ok(());
    };
    let mut texts = Vec::new();
    let mut mids = Vec::new();
    let count = label
        .search()
        .and_then(|s| s["numberOfAnnotationsByObject"]["JOB_0.OBJECT_A"].as_u64())
        .unwrap_or(0);
    if count > 1 {
        texts.push(format!(
            "There are too many BBox ({count}) - Only 1 BBox of Object A accepted"
        ));
        mids.push(None);
    }
    let response: Value = match label.json_response() {
        Some(r) => r.parse()?,
        None => Value::Null,
    };
    for annotation in response["JOB_0"]["annotations"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if area(annotation) > 0.33 {
            texts.push("BBox too large".to_owned());
            mids.push(annotation["mid"].as_str().map(str::to_owned));
        }
    }
    if !texts.is_empty() {
        let labels = vec![label.id(); texts.len()];
        let issues = NewIssues::for_labels(project, labels, texts.clone()).object_mids(mids);
        kili.create_issues(&issues)?;
        if let Some(asset) = event.asset_id() {
            kili.send_back_to_queue([asset])?;
        }
    }
    // An error above is answered 500 and Kili sends the event again; the verdict is told once.
    let _ = verdicts.send(Verdict {
        label_id: label.id().to_owned(),
        issues: texts.len(),
    });
    Ok(())
}

/// The normalized area of a box's bounding polygon.
fn area(annotation: &Value) -> f64 {
    let points = annotation["boundingPoly"][0]["normalizedVertices"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let coord = |p: &Value, k: &str| p[k].as_f64().unwrap_or(0.0);
    let (xs, ys): (Vec<f64>, Vec<f64>) = points
        .iter()
        .map(|p| (coord(p, "x"), coord(p, "y")))
        .unzip();
    let span = |v: &[f64]| {
        v.iter().copied().fold(f64::MIN, f64::max) - v.iter().copied().fold(f64::MAX, f64::min)
    };
    if points.is_empty() {
        0.0
    } else {
        span(&xs) * span(&ys)
    }
}

fn connect(args: &Args) -> Outcome<(Option<LocalServer>, Kili)> {
    if std::env::var("KILI_API_KEY").is_ok_and(|k| !k.is_empty()) {
        if args.public_url.is_none() {
            return Err("against Kili, --public-url must name a URL Kili can reach".into());
        }
        return Ok((None, Kili::from_env()?));
    }
    let server = LocalServer::start()?;
    println!(
        "KILI_API_KEY is not set: using the embedded local server at {}",
        server.endpoint()
    );
    let kili = Kili::new(server.api_key(), server.endpoint())?;
    Ok((Some(server), kili))
}

fn listen_addr(args: &Args) -> String {
    match (&args.listen, &args.public_url) {
        (Some(addr), _) => addr.clone(),
        (None, Some(_)) => "0.0.0.0:8080".into(),
        (None, None) => "127.0.0.1:0".into(),
    }
}

/// A plugin name of this run's own (a plugin is named in the organization, not the project).
fn plugin_name(project: &str) -> String {
    format!("webhook-recipe-{project}")
}

fn submit(kili: &Kili, project: &str, asset: &str, response: Value) -> Outcome<String> {
    let label = NewLabels::for_assets(project, [asset], [response]).label_type(LabelType::Default);
    Ok(kili.append_labels(&label)?.remove(0))
}

fn wait_verdict(verdicts: &Receiver<Verdict>, label: &str) -> Outcome<Verdict> {
    loop {
        let verdict = verdicts
            .recv_timeout(PATIENCE)
            .map_err(|_| format!("the handler never saw label {label}"))?;
        if verdict.label_id == label {
            return Ok(verdict);
        }
    }
}

fn status(kili: &Kili, project: &str, asset: &str) -> Outcome<Option<AssetStatus>> {
    let query = AssetQuery::new(project)
        .asset_ids([asset])
        .fields(["id", "status"]);
    let assets = kili.assets(&query)?.collect_all()?;
    Ok(assets.first().and_then(|a| a.status()))
}

fn check(ok: bool, what: impl Into<String>) -> Outcome<()> {
    let what = what.into();
    if ok {
        println!("ok: {what}");
        Ok(())
    } else {
        Err(format!("check failed: {what}").into())
    }
}

fn interface() -> Value {
    json!({"jobs": {"JOB_0": {"mlTask": "OBJECT_DETECTION", "tools": ["rectangle"], "required": 1,
        "isChild": false, "instruction": "Categories",
        "content": {"categories": {"OBJECT_A": {"name": "Object A"}, "OBJECT_B": {"name": "Object B"}},
                    "input": "radio"}}}})
}

fn bbox(mid: &str, (x0, y0, x1, y1): (f64, f64, f64, f64)) -> Value {
    json!({"boundingPoly": [{"normalizedVertices": [
        {"x": x0, "y": y1}, {"x": x0, "y": y0}, {"x": x1, "y": y0}, {"x": x1, "y": y1}]}],
        "categories": [{"name": "OBJECT_A"}], "children": {}, "mid": mid, "type": "rectangle"})
}

/// The recipe's first label: three boxes of OBJECT_A, the first 0.67 x 0.53 of the image.
fn three_boxes() -> Value {
    json!({"JOB_0": {"annotations": [
        bbox("20221124161451411-13314", (0.15, 0.31, 0.82, 0.84)),
        bbox("20221124161456406-47055", (0.79, 0.13, 0.91, 0.20)),
        bbox("20221124161459298-45160", (0.87, 0.27, 0.99, 0.36)),
    ]}})
}

/// A label that passes both rules: one box of OBJECT_A, 0.3 x 0.3 of the image.
fn one_small_box() -> Value {
    json!({"JOB_0": {"annotations": [bbox("20221124161451411-00001", (0.2, 0.2, 0.5, 0.5))]}})
}
