//! A synchronous driver: runs a [`Session`]'s actions against a [`Backend`] on the calling
//! thread. Unit tests and the fuzzer use it; the TLS handshake is simulated.

use crate::backend::Backend;
use crate::session::{Action, Session, TlsInfo};

/// Performs a session's actions; keeps the opened mailbox.
pub struct BlockingDriver<B: Backend> {
    pub backend: B,
    mailbox: Option<B::Mailbox>,
}

impl<B: Backend> BlockingDriver<B> {
    pub fn new(backend: B) -> Self {
        BlockingDriver {
            backend,
            mailbox: None,
        }
    }

    /// Feeds `input` and runs every action until the input is used up or the session
    /// closes; returns the output. A `StartTls` is answered with a pretend handshake.
    pub fn run(&mut self, session: &mut Session, input: &[u8]) -> Vec<u8> {
        session.feed(input);
        let mut out = Vec::new();
        while let Some(action) = session.advance() {
            out.extend_from_slice(&session.take_output());
            if matches!(action, Action::Close) {
                self.mailbox = None;
                break;
            }
            self.perform(session, action);
        }
        out.extend_from_slice(&session.take_output());
        if session.is_closed() {
            self.mailbox = None;
        }
        out
    }

    fn perform(&mut self, session: &mut Session, action: Action) {
        match action {
            Action::StartTls => session.tls_established(TlsInfo {
                version: "TLSv1.3".into(),
                cipher: "TLS_AES_256_GCM_SHA384".into(),
                bits: 256,
            }),
            Action::Login { user, password, .. } => {
                let (outcome, mailbox) = self.backend.login(&user, &password).split();
                self.mailbox = mailbox;
                let _ = session.login_result(&user, outcome);
            }
            Action::Fetch { uid, mark_seen } => {
                let result = match &self.mailbox {
                    Some(m) => crate::backend::Mailbox::fetch(m, uid, mark_seen),
                    None => Err(crate::backend::MailError::Temporary("not open".into())),
                };
                let _ = session.fetch_result(result);
            }
            Action::Commit { uids } => {
                let result = match &self.mailbox {
                    Some(m) => crate::backend::Mailbox::remove(m, &uids),
                    None => Err(crate::backend::MailError::Temporary("not open".into())),
                };
                let _ = session.commit_result(result);
            }
            Action::Close => self.mailbox = None,
        }
    }

    /// The connection dropped: the mailbox is released without removing anything.
    pub fn drop_connection(&mut self, session: &mut Session) {
        session.finish("closed");
        self.mailbox = None;
    }
}
