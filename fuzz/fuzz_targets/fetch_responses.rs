//! Remote retrieval's clients read whatever a remote POP3 or IMAP server sends: the line
//! parsers and whole sessions (greeting, login, listing, fetch, delete) over hostile bytes
//! must end in an answer or an error, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailward_mda::fetch::imap::{self, Imap, Response};
use mailward_mda::fetch::pop3::{self, Pop3};
use mailward_mda::fetch::wire::Wire;
use mailward_mda::fetch::headers;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

fuzz_target!(|data: &[u8]| {
    if data.len() > 256 * 1024 {
        return;
    }
    for line in data.split(|&b| b == b'\n') {
        let _ = pop3::parse_status(line);
        let _ = pop3::parse_uidl_line(line);
        let _ = pop3::parse_list_line(line);
        let _ = pop3::unstuff(line);
        let _ = imap::literal_at_end(line);
        let _ = imap::classify(line);
        let _ = imap::capabilities(line);
        let _ = imap::uidvalidity(line);
        let _ = imap::search_uids(line);
        let r = Response { text: vec![line.to_vec(), line.to_vec()], literals: vec![data.to_vec()] };
        let _ = imap::fetched_body(&r);
    }
    let _ = headers::return_path(data);
    let _ = headers::message_id(data);
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        return;
    };
    rt.block_on(async {
        let wire = |bytes: Vec<u8>| async move {
            let (client, mut server) = tokio::io::duplex(1 << 20);
            let _ = server.write_all(&bytes).await;
            let _ = server.shutdown().await;
            // `server` stays alive so the client's commands have somewhere to go.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
            (Wire::new(client, Duration::from_millis(200), deadline), server)
        };
        let (w, _keep) = wire(data.to_vec()).await;
        let mut pop = Pop3::new(w);
        if pop.greeting().await.is_ok() && pop.login("u", "p").await.is_ok() {
            let _ = pop.uidl(1000).await;
            let _ = pop.list(1000).await;
            let _ = pop.retr(1, 1 << 16).await;
            let _ = pop.dele(1).await;
            let _ = pop.quit().await;
        }
        let (w, _keep) = wire(data.to_vec()).await;
        let mut session = Imap::new(w, 1 << 16);
        if session.greeting().await.is_ok() && session.capability().await.is_ok() {
            let _ = session.login("u", "p").await;
            let _ = session.select("INBOX").await;
            let _ = session.all_uids().await;
            let _ = session.larger_than(1 << 16).await;
            let _ = session.fetch(1).await;
            let _ = session.delete(&[1, 2]).await;
            let _ = session.logout().await;
        }
    });
});
