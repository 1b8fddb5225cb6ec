//! A tiny HTTP/1.1 server on loopback for the delivery tests: records every request and
//! answers 200, or fails the first N requests with a status, or always answers one status,
//! or hangs (bounded). One request per connection (`Connection: close`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Answer { fail_first: usize, status: u16 },
    Always(u16),
    Hang,
}

struct State {
    requests: Vec<Request>,
    mode: Mode,
    stopped: bool,
}

pub struct Server {
    addr: SocketAddr,
    state: Arc<(Mutex<State>, Condvar)>,
}

/// The longest a hanging answer waits (tests stay bounded even if one forgets to stop).
const HANG_LIMIT: Duration = Duration::from_secs(10);

impl Server {
    pub fn start() -> Server {
        Server::bind("127.0.0.1:0".parse().expect("addr"))
    }

    /// A loopback address nothing listens on (connections are refused).
    pub fn unused_addr() -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    }

    pub fn bind(addr: SocketAddr) -> Server {
        let listener = TcpListener::bind(addr).expect("bind test server");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new((
            Mutex::new(State {
                requests: Vec::new(),
                mode: Mode::Answer {
                    fail_first: 0,
                    status: 200,
                },
                stopped: false,
            }),
            Condvar::new(),
        ));
        let shared = Arc::clone(&state);
        thread::spawn(move || {
            for stream in listener.incoming() {
                if shared.0.lock().expect("lock").stopped {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = Arc::clone(&shared);
                thread::spawn(move || serve(stream, &shared));
            }
        });
        Server { addr, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn fail_first(&self, n: usize, status: u16) {
        self.state.0.lock().expect("lock").mode = Mode::Answer {
            fail_first: n,
            status,
        };
    }

    pub fn always(&self, status: u16) {
        self.state.0.lock().expect("lock").mode = Mode::Always(status);
    }

    pub fn hang(&self) {
        self.state.0.lock().expect("lock").mode = Mode::Hang;
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.0.lock().expect("lock").requests.clone()
    }

    /// Waits (bounded) until at least `n` requests arrived.
    pub fn wait_for(&self, n: usize, limit: Duration) -> Vec<Request> {
        let (lock, cv) = &*self.state;
        let deadline = Instant::now() + limit;
        let mut st = lock.lock().expect("lock");
        while st.requests.len() < n {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            st = cv.wait_timeout(st, deadline - now).expect("lock").0;
        }
        st.requests.clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let (lock, cv) = &*self.state;
        lock.lock().expect("lock").stopped = true;
        cv.notify_all();
        // Unblock accept().
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(stream: TcpStream, shared: &(Mutex<State>, Condvar)) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Some(request) = read_request(&stream) else {
        return;
    };
    let (lock, cv) = shared;
    let status = {
        let mut st = lock.lock().expect("lock");
        if st.stopped {
            return;
        }
        let n = st.requests.len();
        st.requests.push(request);
        cv.notify_all();
        match st.mode {
            Mode::Answer { fail_first, status } if n < fail_first => Some(status),
            Mode::Answer { .. } => Some(200),
            Mode::Always(status) => Some(status),
            Mode::Hang => None,
        }
    };
    let Some(status) = status else {
        let deadline = Instant::now() + HANG_LIMIT;
        let mut st = lock.lock().expect("lock");
        while !st.stopped && Instant::now() < deadline {
            st = cv
                .wait_timeout(st, Duration::from_millis(100))
                .expect("lock")
                .0;
        }
        return;
    };
    let body = if status == 200 { "" } else { "no thanks\n" };
    let reply = format!(
        "HTTP/1.1 {status} Test\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = stream;
    let _ = stream.write_all(reply.as_bytes());
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
