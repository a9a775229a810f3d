//! `exclient`: exercises the example servers `echo` and `kv` through their
//! typed protocols — blocking calls, asynchronous calls from an executor,
//! leases, malformed requests, names — and prints `PASS`/`FAIL` lines and
//! `examples: N passed, N failed`; the exit status is the number failed.
//!
//! With arguments it is a one-shot client instead, for the shell:
//! `run exclient echo <text>`, `run exclient kv get <key>`,
//! `run exclient kv put <key> <value>`, `run exclient kv keys`.
//!
//! It finds the servers by name through the name service of its first
//! handle (init's). If they are not running, it starts them itself, passing
//! them a connection to that service (and ends them afterwards); if it was
//! given no name service, it hosts one of its own for them. So it runs as a
//! suite of init's test mode whether or not init started the servers.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::time::Duration;

use echo::echo;
use kv::kv;
use libipc::executor;
use libipc::ipc::{Connection, Handle};
use libipc::names::{self, Names};
use libipc::server::Server;
use libipc::sys::{self, OwnedHandle};
use libipc::{println, Args, Error};

libipc::main!(main);

type Outcome = Result<(), String>;
/// A test: its name and its function.
type Test = (&'static str, fn() -> Outcome);

/// Fails the test with a reason unless the condition holds.
macro_rules! ensure {
    ($cond:expr, $($why:tt)+) => {
        if !$cond {
            return Err(format!($($why)+));
        }
    };
}

fn ok<T>(what: &str, r: libipc::Result<T>) -> Result<T, String> {
    r.map_err(|e| format!("{what}: {e:?}"))
}

fn main(args: Args) -> i32 {
    if let Some(server @ ("echo" | "kv")) = args.word(0) {
        return one_shot(server, &args.words_str().skip(1).collect::<Vec<_>>());
    }
    let servers = setup().unwrap_or_else(|e| {
        println!("exclient: cannot start the servers: {e}");
        Vec::new()
    });
    let tests: [Test; 8] = [
        ("examples::names", names_resolve),
        ("examples::echo_blocking", echo_blocking),
        ("examples::echo_typed_call", echo_typed_call),
        ("examples::echo_malformed", echo_malformed),
        ("examples::echo_async_concurrent", echo_async_concurrent),
        ("examples::kv_blocking", kv_blocking),
        ("examples::kv_leases", kv_leases),
        ("examples::kv_async", kv_async),
    ];
    let failed = libipc::testing::run("examples", tests);
    for s in &servers {
        let _ = sys::kill(s.raw());
    }
    failed
}

/// `exclient echo ...` / `exclient kv ...`: one request, the answer printed.
fn one_shot(server: &str, words: &[&str]) -> i32 {
    let answer = match (server, words) {
        ("echo", _) => echo::lookup().and_then(|e| e.blocking().echo(words.join(" "))),
        ("kv", ["get", key]) => kv::lookup().and_then(|k| k.blocking().get(*key)).map(|v| match v {
            Some(v) => String::from_utf8_lossy(&v).into_owned(),
            None => String::from("(not set)"),
        }),
        ("kv", ["put", key, value]) => {
            kv::lookup().and_then(|k| k.blocking().put(*key, value.as_bytes())).map(|_| String::from("ok"))
        }
        ("kv", ["keys"]) => kv::lookup().and_then(|k| k.blocking().keys()).map(|keys| keys.join(" ")),
        _ => {
            println!("usage: exclient [echo <text> | kv get <key> | kv put <key> <value> | kv keys]");
            return 2;
        }
    };
    match answer {
        Ok(text) => {
            println!("{text}");
            0
        }
        Err(e) => {
            println!("exclient: {server}: {e}");
            1
        }
    }
}

/// Chooses the name service (init's, else one of our own) and starts the
/// servers that are not registered with it yet; returns the ones started.
fn setup() -> libipc::Result<Vec<OwnedHandle>> {
    let reachable = |c: &Connection| matches!(Names::new(c).lookup(echo::NAME), Ok(_) | Err(Error::NotFound));
    let service = match Handle::initial(0).map(Connection::from_handle) {
        Some(init) if reachable(&init) => init,
        _ => names::spawn_service()?,
    };
    let mut started = Vec::new();
    for name in [echo::NAME, kv::NAME] {
        if matches!(Names::new(&service).lookup(name), Err(Error::NotFound)) {
            started.push(sys::spawn(name.as_bytes(), b"", &[service.handle().raw()])?);
        }
    }
    names::set_service(service)?;
    Ok(started)
}

const WAIT: Duration = Duration::from_secs(5);

fn echo_client() -> Result<echo::Client, String> {
    ok("lookup echo", names::lookup_wait(echo::NAME, WAIT)).map(echo::Client::from)
}

fn kv_client() -> Result<kv::Client, String> {
    ok("lookup kv", names::lookup_wait(kv::NAME, WAIT)).map(kv::Client::from)
}

fn names_resolve() -> Outcome {
    echo_client()?;
    kv_client()?;
    let missing = names::lookup("no-such-server");
    ensure!(matches!(missing, Err(Error::NotFound)), "lookup of a missing name: {:?}", missing.map(drop));
    let bad = names::lookup("bad name");
    ensure!(matches!(bad, Err(Error::BadArgument)), "lookup of an invalid name: {:?}", bad.map(drop));
    Ok(())
}

fn echo_blocking() -> Outcome {
    let echo = echo_client()?;
    let e = echo.blocking();
    ensure!(ok("echo", e.echo("hello"))? == "hello", "echo did not echo");
    ensure!(ok("reverse", e.reverse("abc", 0))? == "cba", "reverse did not reverse");
    let (before, _) = ok("stats", e.stats())?;
    ok("echo", e.echo(""))?;
    let (after, busy) = ok("stats", e.stats())?;
    ensure!(after == before + 2, "served went from {before} to {after}");
    ensure!(busy == 1, "{busy} requests in progress, expected only this one");
    Ok(())
}

fn echo_typed_call() -> Outcome {
    let conn = ok("lookup", names::lookup(echo::NAME))?;
    let reply: echo::Reply = ok("call", conn.call(&echo::Request::Echo { text: String::from("typed") }))?;
    ensure!(reply == echo::Reply::Echo(String::from("typed")), "got {reply:?}");
    Ok(())
}

fn echo_malformed() -> Outcome {
    let conn = ok("lookup", names::lookup(echo::NAME))?;
    let mut reply = [0u8; 64];
    for junk in [&b""[..], b"\x01\x02\x03", &kv::encode::get("x")] {
        let r = conn.send(junk, &mut reply);
        ensure!(r == Err(Error::BadArgument), "junk {junk:?} got {r:?}");
    }
    // The server is still fine.
    ensure!(ok("echo", echo::Client::from(conn).blocking().echo("still here"))? == "still here", "bad echo");
    Ok(())
}

/// Eight slow requests from one executor at once: the server has them all
/// in progress together (its stats say so while they wait), and each gets
/// its own answer.
fn echo_async_concurrent() -> Outcome {
    let echo = Rc::new(echo_client()?);
    let mut ex = ok("executor", Server::unregistered("exclient"))?.into_executor();
    let spawner = ex.spawner();
    let (busy, results) = ok(
        "run",
        ex.block_on(async move {
            let mut slots = Vec::new();
            for i in 0..8u32 {
                let (echo, slot) = (echo.clone(), Rc::new(RefCell::new(None)));
                let s = slot.clone();
                let task = async move { *s.borrow_mut() = Some(echo.reverse(format!("{i}abc"), 300).await) };
                spawner.spawn("reverse", task)?;
                slots.push(slot);
            }
            // Let the eight tasks send their requests, then ask.
            executor::yield_now().await;
            let busy = echo.stats().await.map(|(_, busy)| busy);
            while slots.iter().any(|s| s.borrow().is_none()) {
                executor::sleep(Duration::from_millis(10)).await;
            }
            Ok::<_, Error>((busy, slots.iter().map(|s| s.borrow_mut().take()).collect::<Vec<_>>()))
        }),
    )
    .and_then(|r| ok("spawn", r))?;
    for (i, r) in results.into_iter().enumerate() {
        let want = format!("cba{i}");
        ensure!(r == Some(Ok(want.clone())), "request {i}: {r:?}, wanted {want}");
    }
    ensure!(busy == Ok(9), "the server had {busy:?} requests in progress, expected 9 (8 waiting + stats)");
    Ok(())
}

fn kv_blocking() -> Outcome {
    let kv = kv_client()?;
    let k = kv.blocking();
    ok("delete", k.delete("a"))?;
    ensure!(ok("put", k.put("a", b"1"))?.is_none(), "a was set");
    ensure!(ok("put", k.put("a", b"2"))? == Some(b"1".to_vec()), "put did not return the old value");
    ensure!(ok("get", k.get("a"))? == Some(b"2".to_vec()), "get a");
    ok("put", k.put("b", vec![7u8; 100]))?;
    let keys = ok("keys", k.keys())?;
    ensure!(keys.contains(&String::from("a")) && keys.contains(&String::from("b")), "keys {keys:?}");
    ensure!(ok("delete", k.delete("a"))?, "delete a");
    ensure!(ok("get", k.get("a"))?.is_none(), "a still there");
    Ok(())
}

fn kv_leases() -> Outcome {
    let conn = ok("lookup", names::lookup(kv::NAME))?;
    let big: Vec<u8> = (0..20_000u32).map(|i| (i * 7 + i / 256) as u8).collect();
    ok("put_large", ::kv::put_large(&conn, "big", &big))?;
    let mut back = vec![0u8; 32 * 1024];
    let n = ok("get_large", ::kv::get_large(&conn, "big", &mut back))?;
    ensure!(n == big.len() && back[..n] == big[..], "got {n} bytes back, not the same");
    let mut small = [0u8; 10];
    let n = ok("get_large small", ::kv::get_large(&conn, "big", &mut small))?;
    ensure!(n == big.len() && small[..] == big[..10], "a short lease gets a prefix and the full length");
    let too_big = vec![0u8; ::kv::MAX_VALUE + 1];
    let r = ::kv::put_large(&conn, "huge", &too_big);
    ensure!(r == Err(Error::BadArgument), "oversized value: {r:?}");
    Ok(())
}

fn kv_async() -> Outcome {
    let kv = kv_client()?;
    let mut ex = ok("executor", Server::unregistered("exclient"))?.into_executor();
    let r = ok(
        "run",
        ex.block_on(async move {
            kv.put("async", b"yes").await?;
            let v = kv.get("async").await?;
            let missing = kv.get("never-set").await?;
            Ok::<_, Error>((v, missing))
        }),
    )?;
    ensure!(r == Ok((Some(b"yes".to_vec()), None)), "got {r:?}");
    Ok(())
}
