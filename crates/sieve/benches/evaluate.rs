//! Evaluation time of a realistic 100-rule script against a typical 4 KB message
//! (compilation excluded): the cost Sieve adds to each delivery.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use criterion::{Criterion, criterion_group, criterion_main};
use mailward_sieve::{CompileOptions, Envelope, Environment, Host};

struct NoHost;
impl Host for NoHost {}

fn script() -> String {
    let mut s = String::from(
        "require [\"fileinto\", \"envelope\", \"regex\", \"body\", \"variables\", \"imap4flags\", \"relational\", \"comparator-i;ascii-numeric\"];\n",
    );
    for i in 0..100 {
        let rule = match i % 10 {
            0 => format!(
                "if header :contains \"list-id\" \"list{i}.example.org\" {{ fileinto \"Lists/{i}\"; stop; }}\n"
            ),
            1 => format!(
                "if address :domain :is \"from\" \"sender{i}.example\" {{ fileinto \"Senders/{i}\"; }}\n"
            ),
            2 => format!(
                "if envelope :localpart :is \"to\" \"alias{i}\" {{ fileinto \"Alias/{i}\"; }}\n"
            ),
            3 => format!(
                "if header :matches \"subject\" \"*[ticket-{i}*]*\" {{ fileinto \"Tickets/${{2}}\"; }}\n"
            ),
            4 => format!(
                "if anyof (header :is \"x-priority\" \"{i}\", exists \"x-rule-{i}\") {{ addflag \"\\\\Flagged\"; }}\n"
            ),
            5 if i % 20 == 5 => format!(
                "if header :regex \"subject\" \"^(re|fwd): .*order #{i}[0-9]+\" {{ fileinto \"Orders\"; }}\n"
            ),
            6 if i % 30 == 6 => {
                format!("if body :text :contains \"unsubscribe{i}\" {{ fileinto \"Bulk\"; }}\n")
            }
            7 => format!(
                "if header :value \"ge\" :comparator \"i;ascii-numeric\" \"x-spam-score\" \"{}\" {{ fileinto \"Junk\"; }}\n",
                50 + i
            ),
            8 => format!(
                "if address :all :is [\"to\", \"cc\"] \"team{i}@example.com\" {{ fileinto \"Team/{i}\"; }}\n"
            ),
            _ => format!(
                "if not header :contains \"from\" \"friend{i}\" {{ set \"seen{i}\" \"1\"; }}\n"
            ),
        };
        s.push_str(&rule);
    }
    s
}

fn message() -> Vec<u8> {
    let mut m = String::from(
        "Received: from mx.example.net (mx.example.net [192.0.2.1]) by mail.example.com with ESMTPS id abc; Mon, 1 Jan 2024 10:00:00 +0000\r\n\
         Received: from client (client.example.net [198.51.100.7]) by mx.example.net with ESMTP id def; Mon, 1 Jan 2024 09:59:58 +0000\r\n\
         From: \"Alice Example\" <alice@sender.example>\r\n\
         To: Bob <bob@example.com>, team3@example.com\r\n\
         Cc: carol@example.com\r\n\
         Subject: Re: the quarterly numbers and the plan for next year\r\n\
         Date: Mon, 1 Jan 2024 09:59:57 +0000\r\n\
         Message-ID: <20240101095957.12345@sender.example>\r\n\
         X-Spam-Score: 12\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n",
    );
    while m.len() < 4096 {
        m.push_str("Thanks for the numbers; I have a few questions about the second quarter.\r\n");
    }
    m.into_bytes()
}

fn bench(c: &mut Criterion) {
    let script = mailward_sieve::compile(&script(), &CompileOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let message = message();
    let envelope = Envelope {
        from: "alice@sender.example".into(),
        to: "bob@example.com".into(),
        ..Envelope::default()
    };
    let env = Environment::default();
    c.bench_function("evaluate 100 rules, 4 KB message", |b| {
        b.iter(|| mailward_sieve::evaluate(&script, &message, &envelope, &env, &mut NoHost))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
