//! HTTP/1.1 message handling, without IO: parsing a request head, building a response, and
//! decoding gzip bodies with a size limit.

use std::io::Read;

/// Largest request head accepted (request line and headers).
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;

/// A parsed request head.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RequestHead {
    pub(crate) method: String,
    /// The path without its query string.
    pub(crate) path: String,
    /// The query string (after `?`, before any `#`), possibly empty.
    pub(crate) query: String,
    /// HTTP/1.x minor version.
    pub(crate) version: u8,
    pub(crate) headers: Vec<(String, String)>,
    /// Bytes taken by the head in the buffer.
    pub(crate) len: usize,
}

/// Result of trying to parse a head from the bytes read so far.
#[derive(Debug, PartialEq)]
pub(crate) enum Parse {
    Complete(RequestHead),
    /// More bytes are needed.
    Partial,
    /// Not HTTP: answer 400 and close.
    Invalid(String),
}

impl RequestHead {
    /// Returns the first header with this name (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Returns whether a header holds `token` in its comma-separated list (case-insensitive).
    pub(crate) fn header_has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// Returns the first value of a query parameter (not percent-decoded: the server's own URLs use
    /// none of the characters that need it).
    pub(crate) fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    /// Returns whether the connection stays open after the response.
    pub(crate) fn keep_alive(&self) -> bool {
        if self.header_has_token("connection", "close") {
            false
        } else {
            self.version >= 1 || self.header_has_token("connection", "keep-alive")
        }
    }

    /// Returns the declared body length: `Ok(0)` without a body, an error for chunked bodies or a
    /// bad `Content-Length`.
    pub(crate) fn content_length(&self) -> Result<usize, u16> {
        if self.header("transfer-encoding").is_some() {
            return Err(411);
        }
        // Digits only (no sign), and repeated headers must agree: otherwise two parsers on the
        // way could disagree about where the body ends (request smuggling).
        let mut length = None;
        for (_, v) in self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        {
            let v = v.trim();
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(400);
            }
            let n: usize = v.parse().map_err(|_| 400u16)?;
            if length.is_some_and(|l| l != n) {
                return Err(400);
            }
            length = Some(n);
        }
        Ok(length.unwrap_or(0))
    }
}

/// Parses a request head from `buf`.
pub(crate) fn parse_head(buf: &[u8]) -> Parse {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => {
            let (Some(method), Some(target), Some(version)) = (req.method, req.path, req.version)
            else {
                return Parse::Invalid("incomplete request line".into());
            };
            let target = target.split('#').next().unwrap_or("");
            let (path, query) = target.split_once('?').unwrap_or((target, ""));
            let (path, query) = (path.to_owned(), query.to_owned());
            let headers = req
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_owned(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect();
            Parse::Complete(RequestHead {
                method: method.to_owned(),
                path,
                query,
                version,
                headers,
                len,
            })
        }
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD_BYTES => {
            Parse::Invalid("request head too large".into())
        }
        Ok(httparse::Status::Partial) => Parse::Partial,
        Err(e) => Parse::Invalid(e.to_string()),
    }
}

/// Returns the reason phrase of the statuses this server sends.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// A response to write in one piece.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
    /// Close the connection after this response.
    pub(crate) close: bool,
    /// Send the headers only (an answer to `HEAD`): `Content-Length` still counts the body.
    pub(crate) head_only: bool,
}

impl Response {
    /// Makes a JSON response.
    pub(crate) fn json(status: u16, body: Vec<u8>) -> Self {
        Response::bytes(status, Some("application/json"), body)
    }

    /// Makes a response with this body and content type.
    pub(crate) fn bytes(status: u16, content_type: Option<&str>, body: Vec<u8>) -> Self {
        Response {
            status,
            headers: content_type
                .map(|t| vec![("Content-Type", t.to_owned())])
                .unwrap_or_default(),
            body,
            close: false,
            head_only: false,
        }
    }

    /// Turns the response into an answer to `HEAD`: the same headers, no body.
    pub(crate) fn head_only(mut self) -> Self {
        self.head_only = true;
        self
    }

    /// Makes a GraphQL-shaped error:
    /// `{"errors":[{"message":..,"extensions":{"code":..}}],"data":null}`.
    pub(crate) fn graphql_error(status: u16, code: &str, message: &str) -> Self {
        let body = serde_json::json!({
            "errors": [{"message": message, "extensions": {"code": code}}],
            "data": null,
        });
        Response::json(status, body.to_string().into_bytes())
    }

    /// Makes a `405` naming the methods the path takes, in `Allow` too.
    pub(crate) fn method_not_allowed(allow: &str) -> Self {
        Response::graphql_error(
            405,
            "METHOD_NOT_ALLOWED",
            &format!("use {allow} on this path"),
        )
        .with_header("Allow", allow)
    }

    /// Adds a header.
    pub(crate) fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Marks the response as the last of its connection.
    pub(crate) fn closing(mut self) -> Self {
        self.close = true;
        self
    }

    /// Returns the whole response as bytes, so it goes out in one write (no Nagle delay).
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 160);
        out.extend_from_slice(
            format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status)).as_bytes(),
        );
        for (name, value) in &self.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        let connection = if self.close { "close" } else { "keep-alive" };
        out.extend_from_slice(
            format!(
                "Date: {}\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n",
                crate::time::http_date(),
                self.body.len()
            )
            .as_bytes(),
        );
        if !self.head_only {
            out.extend_from_slice(&self.body);
        }
        out
    }
}

/// How many times its compressed size a gzip body may decompress to (above [`GZIP_FLOOR`]): real
/// JSON compresses a few times to a few dozen times, a decompression bomb a thousand times.
pub(crate) const GZIP_RATIO: usize = 64;
/// What any gzip body may decompress to, whatever its compressed size (within the body limit).
/// The SDK gzips bodies of 1 MB or more, and a long repetitive field (its own tests send a
/// project description of 2 MiB of one letter) compresses a thousand times: such bodies stay
/// under this floor.
pub(crate) const GZIP_FLOOR: usize = 8 * 1024 * 1024;

/// Why a body could not be decoded.
#[derive(Debug, PartialEq)]
pub(crate) enum DecodeError {
    /// Larger than this bound once decompressed.
    TooLarge(usize),
    /// Not valid gzip.
    Corrupt,
    /// An encoding other than `gzip` / `identity`.
    Unsupported(String),
}

/// Decodes a body according to `Content-Encoding` (gzip or none), up to `limit` bytes; a gzip
/// body to at most [`GZIP_RATIO`] times its size (or [`GZIP_FLOOR`]), so that what a request
/// costs stays in proportion to what it sent. Decoding stops at the bound.
pub(crate) fn decode_body(
    encoding: Option<&str>,
    body: Vec<u8>,
    limit: usize,
) -> Result<Vec<u8>, DecodeError> {
    match encoding.map(|e| e.trim().to_ascii_lowercase()).as_deref() {
        None | Some("" | "identity") => Ok(body),
        Some("gzip" | "x-gzip") => {
            let bound = limit.min(body.len().saturating_mul(GZIP_RATIO).max(GZIP_FLOOR));
            let mut out = Vec::new();
            let cap = u64::try_from(bound).unwrap_or(u64::MAX).saturating_add(1);
            flate2::read::GzDecoder::new(body.as_slice())
                .take(cap)
                .read_to_end(&mut out)
                .map_err(|_| DecodeError::Corrupt)?;
            if out.len() > bound {
                Err(DecodeError::TooLarge(bound))
            } else {
                Ok(out)
            }
        }
        Some(other) => Err(DecodeError::Unsupported(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn parses_a_head_in_pieces() {
        let raw =
            b"POST /api/label/v2/graphql?x=1&id=a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(parse_head(&raw[..20]), Parse::Partial);
        let Parse::Complete(h) = parse_head(raw) else {
            panic!("not complete")
        };
        assert_eq!(h.method, "POST");
        assert_eq!(h.path, "/api/label/v2/graphql");
        assert_eq!(
            (h.query_param("id"), h.query_param("x"), h.query_param("y")),
            (Some("a"), Some("1"), None)
        );
        assert_eq!(h.content_length(), Ok(2));
        assert_eq!(&raw[h.len..], b"{}");
        assert!(h.keep_alive());
    }

    #[test]
    fn rejects_garbage_and_chunked() {
        assert!(matches!(
            parse_head(b"\x00\x01 nope\r\n\r\n"),
            Parse::Invalid(_)
        ));
        let Parse::Complete(h) = parse_head(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        ) else {
            panic!("not complete")
        };
        assert_eq!(h.content_length(), Err(411));
        assert!(!h.keep_alive());
        let big = vec![b'a'; MAX_HEAD_BYTES + 10];
        assert!(matches!(parse_head(&big), Parse::Invalid(_)));
    }

    #[test]
    fn content_length_is_digits_and_agrees_with_itself() {
        let length = |headers: &str| {
            let raw = format!("POST / HTTP/1.1\r\n{headers}\r\n");
            match parse_head(raw.as_bytes()) {
                Parse::Complete(h) => h.content_length(),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(length(""), Ok(0));
        assert_eq!(length("Content-Length:  12 \r\n"), Ok(12));
        assert_eq!(length("Content-Length: 3\r\ncontent-length: 3\r\n"), Ok(3));
        for bad in [
            "+2",
            "-1",
            "1e3",
            "0x10",
            "",
            "2, 2",
            "99999999999999999999999",
        ] {
            assert_eq!(
                length(&format!("Content-Length: {bad}\r\n")),
                Err(400),
                "{bad:?}"
            );
        }
        assert_eq!(
            length("Content-Length: 2\r\nContent-Length: 40\r\n"),
            Err(400)
        );
    }

    #[test]
    fn response_is_one_buffer() {
        let r = Response::json(200, b"{}".to_vec()).closing();
        let text = String::from_utf8(r.to_bytes()).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains("Content-Length: 2\r\nConnection: close\r\n\r\n{}"));
    }

    #[test]
    fn gzip_bodies_decode_within_limits() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&[b'x'; 1000]).unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(
            decode_body(Some("gzip"), gz.clone(), 1000).unwrap().len(),
            1000
        );
        assert_eq!(
            decode_body(Some("gzip"), gz, 999),
            Err(DecodeError::TooLarge(999))
        );
        // The SDK's big create_project: 2 MiB of one letter, a thousand times smaller gzipped.
        let mut big = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        big.write_all(&vec![b'x'; 2 << 20]).unwrap();
        let big = big.finish().unwrap();
        assert!(
            big.len() * GZIP_RATIO < 2 << 20,
            "{} bytes gzipped",
            big.len()
        );
        assert_eq!(
            decode_body(Some("gzip"), big, 32 << 20).unwrap().len(),
            2 << 20
        );
        let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        bomb.write_all(&vec![b'0'; 8 * GZIP_FLOOR]).unwrap();
        let bomb = bomb.finish().unwrap();
        assert_eq!(
            decode_body(Some("gzip"), bomb.clone(), usize::MAX),
            Err(DecodeError::TooLarge(GZIP_FLOOR)),
            "{} bytes may not decompress to 8 MiB",
            bomb.len()
        );
        assert_eq!(
            decode_body(Some("gzip"), b"nope".to_vec(), 10),
            Err(DecodeError::Corrupt)
        );
        assert!(matches!(
            decode_body(Some("br"), vec![], 10),
            Err(DecodeError::Unsupported(_))
        ));
        assert_eq!(decode_body(None, b"ab".to_vec(), 10).unwrap(), b"ab");
    }
}
