//! Transformations: an endpoint's jq program (run by the `jaq` crates) that maps the event
//! `{id, type, timestamp, data}` to the body the endpoint receives.
//!
//! jaq bounds nothing itself: an endless program never returns and a recursive one overflows the
//! stack, which aborts the process it runs in, whatever thread. So programs never run in the hub:
//! they run in worker processes of the hub's own binary (`integrations-hub transform-worker`),
//! one JSON line in, one out, each worker's memory capped (`RLIMIT_AS`). The hub kills a worker
//! that has not answered within [`TIME_LIMIT`] and starts another when it needs one; a worker
//! that dies (stack, memory) costs that one run. Compiled programs are kept per worker.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Semaphore;

/// The error kind of an attempt whose transformation dropped the event (nothing was sent).
pub const TRANSFORMATION_DROPPED: &str = "transformation_dropped";
/// The error kind of an attempt whose program failed (nothing was sent; dead-lettered at once).
pub const TRANSFORMATION_FAILED: &str = "transformation";
/// The error kind of an attempt that found no transformation worker free (retried).
pub const TRANSFORMATION_UNAVAILABLE: &str = "transformation_unavailable";

/// Whether an attempt's error kind says no request left the hub because of the transformation:
/// such an attempt says nothing of the endpoint's health or latency.
pub fn sent_nothing(error_kind: Option<&str>) -> bool {
    matches!(error_kind, Some(TRANSFORMATION_DROPPED | TRANSFORMATION_FAILED | TRANSFORMATION_UNAVAILABLE))
}
/// How long one run may take, compiling included.
pub const TIME_LIMIT: Duration = Duration::from_millis(1000);
/// A program is at most this long.
pub const MAX_PROGRAM: usize = 10_000;
/// A worker's address space.
const MEMORY_LIMIT: u64 = 512 * 1024 * 1024;
/// Workers running at once (more runs wait their turn).
const WORKERS: usize = 4;
/// Compiled programs a worker keeps.
const KEPT: usize = 128;

#[derive(Debug, Serialize, Deserialize)]
struct Request {
    program: String,
    /// `None`: compile only (the check when an endpoint is saved).
    input: Option<Value>,
    /// The largest output, as JSON, that is accepted.
    max_bytes: usize,
}

#[derive(Debug, Serialize, Deserialize)]
enum Answer {
    Compiled,
    /// The program's outputs: none, or one.
    Output(Option<Value>),
    Error(String),
}

/// Why a transformation gave no body.
#[derive(Debug, Clone, PartialEq)]
pub enum TransformError {
    /// The program's fault (jq's error, the time limit, a worker it crashed, an output that is not
    /// JSON): it would fail again on the same event.
    Program(String),
    /// No worker could take it (all busy, or none could start): worth trying again later.
    Unavailable(String),
}

impl std::fmt::Display for TransformError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransformError::Program(m) | TransformError::Unavailable(m) => f.write_str(m),
        }
    }
}

/// How long a run waits for a free worker before it is given up (and retried later).
const WAIT_FOR_WORKER: Duration = Duration::from_secs(2);
/// Error texts are cut to this many characters (a parse error can quote the whole program).
const MAX_ERROR: usize = 1000;

fn cut(mut text: String) -> String {
    if let Some((i, _)) = text.char_indices().nth(MAX_ERROR) {
        text.truncate(i);
        text.push('…');
    }
    text
}

/// What a transformation made of an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Transformed {
    /// The body to send (compact JSON) and the headers the program set.
    Send { body: String, headers: Vec<(String, String)> },
    /// `null` or no output: nothing is sent to this endpoint.
    Drop,
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// The hub's side: a small pool of worker processes.
pub struct Transformer {
    exe: PathBuf,
    idle: Mutex<Vec<Worker>>,
    slots: Semaphore,
}

impl Transformer {
    /// `exe`: the hub's binary (its `transform-worker` subcommand).
    pub fn new(exe: PathBuf) -> Self {
        Transformer { exe, idle: Mutex::new(Vec::new()), slots: Semaphore::new(WORKERS) }
    }

    fn spawn(&self) -> Result<Worker, TransformError> {
        let unavailable = |m: String| TransformError::Unavailable(m);
        // A clean environment: a tenant's program never sees the hub's settings or secrets.
        let mut child = Command::new(&self.exe)
            .arg("transform-worker")
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| unavailable(format!("starting a transformation worker: {e}")))?;
        let stdin = child.stdin.take().ok_or_else(|| unavailable("a worker without stdin".into()))?;
        let stdout = BufReader::new(child.stdout.take().ok_or_else(|| unavailable("a worker without stdout".into()))?);
        Ok(Worker { child, stdin, stdout })
    }

    async fn call(&self, request: &Request) -> Result<Answer, TransformError> {
        let busy =
            || TransformError::Unavailable("the transformation workers are all busy; it is tried again later".into());
        let _slot = tokio::time::timeout(WAIT_FOR_WORKER, self.slots.acquire())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        let pooled = self.idle.lock().expect("not poisoned").pop();
        let mut worker = match pooled {
            Some(worker) => worker,
            None => self.spawn()?,
        };
        let mut line = serde_json::to_string(request).map_err(|e| TransformError::Program(e.to_string()))?;
        line.push('\n');
        // The answer is read with a bound too: a worker never writes more than `max_bytes` of
        // output, but one that went wrong is not trusted to.
        let limit = request.max_bytes as u64 * 2 + 64 * 1024;
        let exchange = async {
            worker.stdin.write_all(line.as_bytes()).await?;
            worker.stdin.flush().await?;
            let mut answer = String::new();
            (&mut worker.stdout).take(limit).read_line(&mut answer).await?;
            Ok::<_, std::io::Error>(answer)
        };
        match tokio::time::timeout(TIME_LIMIT, exchange).await {
            Ok(Ok(answer)) if answer.ends_with('\n') => {
                let answer = serde_json::from_str(&answer)
                    .map_err(|e| TransformError::Program(format!("a worker's answer: {e}")));
                self.idle.lock().expect("not poisoned").push(worker);
                answer
            }
            Ok(_) => {
                let _ = worker.child.start_kill();
                Err(TransformError::Program(
                    "the transformation's process ended before answering (it ran out of memory or stack)".into(),
                ))
            }
            Err(_) => {
                let _ = worker.child.start_kill();
                Err(TransformError::Program(format!(
                    "the transformation ran longer than {} ms and was stopped",
                    TIME_LIMIT.as_millis()
                )))
            }
        }
    }

    /// Checks that `program` compiles (when an endpoint is saved): jaq's message otherwise.
    pub async fn check(&self, program: &str) -> Result<(), TransformError> {
        if program.len() > MAX_PROGRAM {
            return Err(TransformError::Program(format!("a transformation is at most {MAX_PROGRAM} bytes")));
        }
        match self.call(&Request { program: program.into(), input: None, max_bytes: 0 }).await? {
            Answer::Error(e) => Err(TransformError::Program(e)),
            _ => Ok(()),
        }
    }

    /// Runs `program` on `event`; the output is the body, or `{"$body": …, "$headers": {…}}`.
    pub async fn apply(&self, program: &str, event: Value, max_bytes: usize) -> Result<Transformed, TransformError> {
        let request = Request { program: program.into(), input: Some(event), max_bytes };
        match self.call(&request).await? {
            Answer::Error(e) => Err(TransformError::Program(e)),
            Answer::Compiled => Err(TransformError::Unavailable("a worker compiled instead of running".into())),
            Answer::Output(None | Some(Value::Null)) => Ok(Transformed::Drop),
            Answer::Output(Some(out)) => shape(out).map_err(TransformError::Program),
        }
    }
}

/// Reads `{"$body", "$headers"}` when the output is shaped so; otherwise the output is the body.
fn shape(out: Value) -> Result<Transformed, String> {
    let (body, headers) = match out {
        Value::Object(mut o) if o.contains_key("$body") => {
            let headers = match o.remove("$headers") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Object(h)) => h
                    .into_iter()
                    .map(|(k, v)| match v {
                        Value::String(s) => Ok((k, s)),
                        other => Err(format!("$headers.{k} is {other}, not a string")),
                    })
                    .collect::<Result<_, _>>()?,
                Some(other) => return Err(format!("$headers must be an object of strings, not {other}")),
            };
            (o.remove("$body").unwrap_or(Value::Null), headers)
        }
        other => (other, Vec::new()),
    };
    if body.is_null() {
        return Ok(Transformed::Drop);
    }
    Ok(Transformed::Send { body: body.to_string(), headers })
}

// ---- the worker process -------------------------------------------------------------------

type Data = jaq_core::data::JustLut<jaq_json::Val>;

fn compile(code: &str) -> Result<jaq_core::compile::Filter<jaq_core::Native<Data>>, String> {
    use jaq_core::load::{Arena, File, Loader};
    let defs = jaq_core::defs().chain(jaq_std::defs()).chain(jaq_json::defs());
    // Not `env` and friends: a tenant's program must not read the worker's environment.
    let funs = jaq_core::funs::<Data>()
        .chain(jaq_std::funs::<Data>().filter(|(name, _, _)| !matches!(*name, "env" | "$__loc__" | "input" | "inputs")))
        .chain(jaq_json::funs::<Data>());
    let arena = Arena::default();
    let modules = Loader::new(defs).load(&arena, File { code, path: () }).map_err(|errors| {
        format!("the program does not parse: {:?}", errors.into_iter().map(|(_, e)| e).collect::<Vec<_>>())
    })?;
    jaq_core::Compiler::default().with_funs(funs).compile(modules).map_err(|errors| {
        let undefined: Vec<String> = errors
            .into_iter()
            .flat_map(|(_, errs)| errs)
            .map(|(name, kind)| format!("undefined {} {name}", kind.as_str()))
            .collect();
        undefined.join("; ")
    })
}

fn run(filter: &jaq_core::compile::Filter<jaq_core::Native<Data>>, input: &Value, max_bytes: usize) -> Answer {
    use jaq_core::{Ctx, Vars};
    let Ok(input) = jaq_json::read::parse_single(input.to_string().as_bytes()) else {
        return Answer::Error("the event is not JSON jaq reads".into());
    };
    let ctx = Ctx::<Data>::new(&filter.lut, Vars::new([]));
    let mut outputs = filter.id.run((ctx, input));
    let first = match outputs.next() {
        None => return Answer::Output(None),
        Some(Err(e)) => return Answer::Error(error_text(e)),
        Some(Ok(v)) => v,
    };
    if outputs.next().is_some() {
        return Answer::Error("the program gave more than one output; wrap them in [ ] to send an array".into());
    }
    let text = first.to_string();
    if text.len() > max_bytes {
        return Answer::Error(format!("the output has {} bytes; the limit is {max_bytes}", text.len()));
    }
    match serde_json::from_str(&text) {
        Ok(value) => Answer::Output(Some(value)),
        Err(_) => Answer::Error("the output is not JSON (NaN, bytes or a key that is not a string)".into()),
    }
}

fn error_text(e: jaq_core::Exn<jaq_json::Val>) -> String {
    match e.get_err() {
        Ok(error) => format!("jq error: {error}"),
        Err(_) => "the program halted".into(),
    }
}

/// `integrations-hub transform-worker`: answers requests on stdin until it closes; the exit code.
pub fn worker_main() -> i32 {
    // Memory: a program that builds an enormous value fails here, not in the hub.
    let _ = rlimit::setrlimit(rlimit::Resource::AS, MEMORY_LIMIT, MEMORY_LIMIT);
    // A worker whose hub is gone (killed without closing its pipe first, while a program spins)
    // ends itself: it is re-parented, and its parent id changes.
    let parent = std::os::unix::process::parent_id();
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(500));
        if std::os::unix::process::parent_id() != parent {
            std::process::exit(1);
        }
    });
    let mut kept: HashMap<String, jaq_core::compile::Filter<jaq_core::Native<Data>>> = HashMap::new();
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lines() {
        let Ok(line) = line else { break };
        let answer = match serde_json::from_str::<Request>(&line) {
            Err(e) => Answer::Error(format!("a request the worker cannot read: {e}")),
            Ok(request) => {
                if !kept.contains_key(&request.program) {
                    if kept.len() >= KEPT {
                        kept.clear();
                    }
                    match compile(&request.program) {
                        Ok(filter) => {
                            kept.insert(request.program.clone(), filter);
                        }
                        Err(e) => {
                            let _ =
                                writeln!(stdout, "{}", serde_json::to_string(&Answer::Error(e)).unwrap_or_default());
                            let _ = stdout.flush();
                            continue;
                        }
                    }
                }
                match &request.input {
                    None => Answer::Compiled,
                    Some(input) => match run(&kept[&request.program], input, request.max_bytes) {
                        Answer::Error(e) => Answer::Error(cut(e)),
                        answer => answer,
                    },
                }
            }
        };
        if writeln!(stdout, "{}", serde_json::to_string(&answer).unwrap_or_default()).is_err()
            || stdout.flush().is_err()
        {
            break;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn programs_compile_run_and_shape_their_output() {
        let f = compile("{event: .type, payload: .data}").unwrap();
        let event = json!({ "id": "evt_1", "type": "order.paid", "data": { "n": 2 } });
        match run(&f, &event, 10_000) {
            Answer::Output(Some(v)) => assert_eq!(v, json!({ "event": "order.paid", "payload": { "n": 2 } })),
            other => panic!("{other:?}"),
        }
        assert!(compile("{").is_err());
        assert!(compile("nosuchfunction(1)").err().unwrap().contains("nosuchfunction"));
        assert!(compile("env").is_err(), "no environment");
        let error = compile("error(\"boom\")").unwrap();
        assert!(matches!(run(&error, &event, 100), Answer::Error(e) if e.contains("boom")));
        let two = compile(".data.n, .data.n").unwrap();
        assert!(matches!(run(&two, &event, 100), Answer::Error(_)));
        let empty = compile("empty").unwrap();
        assert!(matches!(run(&empty, &event, 100), Answer::Output(None)));
        let big = compile("[range(1000)]").unwrap();
        assert!(matches!(run(&big, &event, 100), Answer::Error(e) if e.contains("limit")));
        assert_eq!(
            shape(json!({ "$body": { "x": 1 }, "$headers": { "X-Kind": "a" } })).unwrap(),
            Transformed::Send { body: "{\"x\":1}".into(), headers: vec![("X-Kind".into(), "a".into())] }
        );
        assert_eq!(shape(json!({ "$body": null })).unwrap(), Transformed::Drop);
        assert!(shape(json!({ "$body": 1, "$headers": { "X": 2 } })).is_err());
    }
}
