//! One HTTP/1.1 connection driven by hand, for tests of what a server does with the
//! connection itself: keep-alive, `Connection: close`, requests a client library would
//! refuse to send (two `Authorization` headers), connections from another loopback address.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

/// An answer as it came over the wire.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    /// The value of header `name` (case-insensitive), when present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// True when the server said it closes the connection after this answer.
    pub fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")))
    }
}

/// A client connection, read through a buffer.
pub struct Connection {
    reader: BufReader<TcpStream>,
}

impl Connection {
    /// Connects to `server`, waiting at most 10 s for each answer.
    pub fn open(server: SocketAddr) -> Self {
        Connection::new(TcpStream::connect(server).unwrap())
    }

    /// Connects to `server` from loopback address `from` (127.0.0.2, say), as another client
    /// would.
    pub fn open_from(from: IpAddr, server: SocketAddr) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .unwrap();
        let stream = runtime.block_on(async {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind(SocketAddr::new(from, 0)).unwrap();
            socket.connect(server).await.unwrap()
        });
        let stream = {
            let _entered = runtime.enter();
            stream.into_std().unwrap()
        };
        stream.set_nonblocking(false).unwrap();
        Connection::new(stream)
    }

    fn new(stream: TcpStream) -> Self {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Connection {
            reader: BufReader::new(stream),
        }
    }

    /// Writes `bytes` as they are.
    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let stream = self.reader.get_mut();
        stream.write_all(bytes)?;
        stream.flush()
    }

    /// Reads one answer (its body by `Content-Length`); an error when the connection ends
    /// or nothing comes within 10 s.
    pub fn answer(&mut self) -> std::io::Result<Answer> {
        let ended = || std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(ended());
        }
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("not a status line: {line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(ended());
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
        let mut answer = Answer {
            status,
            headers,
            body: String::new(),
        };
        let length: usize = answer
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        answer.body = String::from_utf8_lossy(&body).into_owned();
        Ok(answer)
    }

    /// Sends `request` and reads its answer.
    pub fn exchange(&mut self, request: &[u8]) -> std::io::Result<Answer> {
        self.send(request)?;
        self.answer()
    }

    /// True when the server closes the connection within `within` (anything it still sends
    /// is read and dropped).
    pub fn closed_within(&mut self, within: Duration) -> bool {
        let stream = self.reader.get_mut();
        stream.set_read_timeout(Some(within)).unwrap();
        let mut buf = [0u8; 4096];
        loop {
            match self.reader.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }
}

/// A `POST` of `body` to `path` with `headers` (each `Name: value`), its length declared.
pub fn post_request(path: &str, headers: &[&str], body: &str) -> Vec<u8> {
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: integra\r\n");
    for header in headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut request = head.into_bytes();
    request.extend_from_slice(body.as_bytes());
    request
}
