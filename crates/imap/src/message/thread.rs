//! THREAD algorithms of RFC 5256 §3 (ORDEREDSUBJECT and REFERENCES) over already
//! extracted keys, and the `thread-list` response form of §4. Pure and iterative: a long
//! reply chain or a References loop can neither overflow the stack nor hang.

use std::collections::HashMap;

/// What threading needs of one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadMessage {
    /// The number the response shows (sequence number or UID).
    pub num: u32,
    /// Mailbox order (the sequence number, or the UID, which orders alike): the tie-break.
    pub order: u32,
    /// RFC 5256 §2.2 sent date, UTC seconds (INTERNALDATE when the Date field is missing
    /// or broken).
    pub date: i64,
    /// The base subject, case-mapped (`i;ascii-casemap`).
    pub subject: Vec<u8>,
    pub reply_or_forward: bool,
    /// The first id of Message-ID.
    pub message_id: Option<String>,
    /// The ids of References, or else the first of In-Reply-To (§2.2 step 1).
    pub references: Vec<String>,
}

/// A thread tree: nodes hold a message (an index into the input) or are dummies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forest {
    nodes: Vec<Node>,
    roots: Vec<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Node {
    msg: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

impl Forest {
    fn add(&mut self, msg: Option<usize>) -> usize {
        self.nodes.push(Node {
            msg,
            parent: None,
            children: Vec::new(),
        });
        self.nodes.len() - 1
    }

    fn node(&self, n: usize) -> Option<&Node> {
        self.nodes.get(n)
    }

    fn msg(&self, n: usize) -> Option<usize> {
        self.node(n).and_then(|x| x.msg)
    }

    fn children(&self, n: usize) -> &[usize] {
        self.node(n)
            .map(|x| x.children.as_slice())
            .unwrap_or_default()
    }

    fn parent(&self, n: usize) -> Option<usize> {
        self.node(n).and_then(|x| x.parent)
    }

    /// `a` is `b` or lies under it.
    fn is_descendant(&self, a: usize, b: usize) -> bool {
        if self.children(b).is_empty() {
            // Nothing lies under a leaf (the usual case: a new message), so no walk up a
            // long chain.
            return a == b;
        }
        let mut cur = Some(a);
        // Bounded by the node count even if links were inconsistent.
        let mut steps = 0;
        while let Some(c) = cur {
            if c == b {
                return true;
            }
            steps += 1;
            if steps > self.nodes.len() {
                return true;
            }
            cur = self.parent(c);
        }
        false
    }

    fn unlink(&mut self, child: usize) {
        if let Some(p) = self.parent(child) {
            if let Some(node) = self.nodes.get_mut(p) {
                node.children.retain(|&c| c != child);
            }
            if let Some(node) = self.nodes.get_mut(child) {
                node.parent = None;
            }
        }
    }

    fn link(&mut self, parent: usize, child: usize) {
        if let Some(node) = self.nodes.get_mut(child) {
            node.parent = Some(parent);
        }
        if let Some(node) = self.nodes.get_mut(parent) {
            node.children.push(child);
        }
    }

    /// The nodes under the roots, each before its descendants.
    fn preorder(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.nodes.len());
        let mut stack: Vec<usize> = self.roots.iter().rev().copied().collect();
        while let Some(n) = stack.pop() {
            out.push(n);
            stack.extend(self.children(n).iter().rev());
        }
        out
    }

    /// The sort key of a node: its message's (date, order); a dummy takes its first
    /// child's (§2.2 steps 4 and 6).
    fn key(&self, msgs: &[ThreadMessage], n: usize) -> (i64, u32) {
        let mut cur = n;
        for _ in 0..=self.nodes.len() {
            if let Some(m) = self.msg(cur).and_then(|i| msgs.get(i)) {
                return (m.date, m.order);
            }
            match self.children(cur).first() {
                Some(&c) => cur = c,
                None => break,
            }
        }
        (i64::MAX, u32::MAX)
    }

    /// Sorts every set of siblings by sent date, the deepest first (§2.2 step 6).
    fn sort_all(&mut self, msgs: &[ThreadMessage]) {
        for n in self.preorder().into_iter().rev() {
            let mut kids = std::mem::take(&mut self.nodes[n].children);
            kids.sort_by_cached_key(|&c| self.key(msgs, c));
            self.nodes[n].children = kids;
        }
        let mut roots = std::mem::take(&mut self.roots);
        roots.sort_by_cached_key(|&r| self.key(msgs, r));
        self.roots = roots;
    }

    /// The §4 `thread-list`s: `(1 2)(3 (4)(5))`; a dummy shows only its children.
    pub fn write(&self, msgs: &[ThreadMessage], out: &mut String) {
        enum Step {
            Text(&'static str),
            List(usize),
        }
        let mut stack: Vec<Step> = self.roots.iter().rev().map(|&r| Step::List(r)).collect();
        while let Some(step) = stack.pop() {
            let n = match step {
                Step::Text(t) => {
                    out.push_str(t);
                    continue;
                }
                Step::List(n) => n,
            };
            out.push('(');
            stack.push(Step::Text(")"));
            // A chain of single children is written inline (`1 2 3`); two or more children
            // are nested lists after the last number.
            let mut cur = n;
            let mut wrote = false;
            loop {
                if let Some(m) = self.msg(cur).and_then(|i| msgs.get(i)) {
                    if wrote {
                        out.push(' ');
                    }
                    out.push_str(&m.num.to_string());
                    wrote = true;
                }
                match self.children(cur) {
                    [] => break,
                    // One child continues the chain (a dummy with one child is only that
                    // child).
                    [one] => cur = *one,
                    kids => {
                        if wrote {
                            out.push(' ');
                        }
                        stack.extend(kids.iter().rev().map(|&c| Step::List(c)));
                        break;
                    }
                }
            }
        }
    }

    /// Number of thread roots (for tests).
    pub fn len(&self) -> usize {
        self.roots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }
}

/// RFC 5256 §3 ORDEREDSUBJECT: messages grouped by base subject, each group ordered by sent
/// date; the first of a group is the root and the others its children; groups ordered by
/// the sent date of their first message.
pub fn ordered_subject(msgs: &[ThreadMessage]) -> Forest {
    let mut idx: Vec<usize> = (0..msgs.len()).collect();
    idx.sort_by(|&a, &b| {
        let (x, y) = (&msgs[a], &msgs[b]);
        x.subject
            .cmp(&y.subject)
            .then(x.date.cmp(&y.date))
            .then(x.order.cmp(&y.order))
    });
    let mut f = Forest::default();
    let mut current: Option<(usize, &[u8])> = None;
    for i in idx {
        let subject = msgs[i].subject.as_slice();
        let n = f.add(Some(i));
        match current {
            Some((root, s)) if s == subject => f.link(root, n),
            _ => {
                f.roots.push(n);
                current = Some((n, subject));
            }
        }
    }
    let mut roots = std::mem::take(&mut f.roots);
    roots.sort_by_cached_key(|&r| f.key(msgs, r));
    f.roots = roots;
    f
}

/// RFC 5256 §3 REFERENCES, steps 1 to 6 of §2.2's description.
pub fn references(msgs: &[ThreadMessage]) -> Forest {
    let mut f = Forest::default();
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    // (1) A container per message id; a repeated Message-ID counts only for the first
    // message (in mailbox order) that has it, the others get containers of their own.
    let mut own: Vec<usize> = Vec::with_capacity(msgs.len());
    for (i, m) in msgs.iter().enumerate() {
        let node = match m.message_id.as_deref() {
            Some(id) => match by_id.get(id) {
                Some(&n) if f.msg(n).is_none() => {
                    if let Some(node) = f.nodes.get_mut(n) {
                        node.msg = Some(i);
                    }
                    n
                }
                Some(_) => f.add(Some(i)),
                None => {
                    let n = f.add(Some(i));
                    by_id.insert(id, n);
                    n
                }
            },
            None => f.add(Some(i)),
        };
        own.push(node);
        // (1A) Link the references in order, each the parent of the next, without
        // changing a link that exists or making a loop; dummies for unknown ids.
        let mut prev: Option<usize> = None;
        for r in &m.references {
            let n = match by_id.get(r.as_str()) {
                Some(&n) => n,
                None => {
                    let n = f.add(None);
                    by_id.insert(r.as_str(), n);
                    n
                }
            };
            if let Some(p) = prev
                && f.parent(n).is_none()
                && !f.is_descendant(p, n)
            {
                f.link(p, n);
            }
            prev = Some(n);
        }
        // (1B) The last reference is the parent of this message: an existing parent link
        // is broken first (a truncated References), and no loop is made.
        f.unlink(node);
        if let Some(p) = prev
            && !f.is_descendant(p, node)
        {
            f.link(p, node);
        }
    }
    // (2) The parentless containers are the roots.
    f.roots = (0..f.nodes.len())
        .filter(|&n| f.parent(n).is_none())
        .collect();
    // (3) Prune dummies: an empty one goes; one with children gives them to its parent,
    // unless that would put them at the root, which happens only for a single child.
    for n in f.preorder().into_iter().rev() {
        let kids = std::mem::take(&mut f.nodes[n].children);
        let mut kept = Vec::with_capacity(kids.len());
        for c in kids {
            if f.msg(c).is_some() {
                kept.push(c);
                continue;
            }
            let grand = std::mem::take(&mut f.nodes[c].children);
            for &g in &grand {
                f.nodes[g].parent = Some(n);
            }
            kept.extend(grand);
        }
        f.nodes[n].children = kept;
    }
    let mut roots = Vec::with_capacity(f.roots.len());
    for r in std::mem::take(&mut f.roots) {
        if f.msg(r).is_some() {
            roots.push(r);
            continue;
        }
        match f.children(r).len() {
            0 => {}
            1 => {
                let c = f.children(r)[0];
                f.nodes[c].parent = None;
                f.nodes[r].children.clear();
                roots.push(c);
            }
            _ => roots.push(r),
        }
    }
    f.roots = roots;
    // (4) Sort the roots by sent date (a dummy's children first, then by its first).
    for &r in &f.roots.clone() {
        if f.msg(r).is_none() {
            let mut kids = std::mem::take(&mut f.nodes[r].children);
            kids.sort_by_cached_key(|&c| f.key(msgs, c));
            f.nodes[r].children = kids;
        }
    }
    let mut roots = std::mem::take(&mut f.roots);
    roots.sort_by_cached_key(|&r| f.key(msgs, r));
    f.roots = roots;
    // (5) Gather roots with the same base subject.
    let subject_of = |f: &Forest, r: usize| -> Option<usize> {
        match f.msg(r) {
            Some(i) => Some(i),
            None => f.children(r).first().and_then(|&c| f.msg(c)),
        }
    };
    let is_reply = |f: &Forest, n: usize| f.msg(n).is_some_and(|i| msgs[i].reply_or_forward);
    let mut table: HashMap<&[u8], usize> = HashMap::new();
    // (5B) One root per subject: a dummy wins over a message, a message that is not a
    // reply over one that is.
    for &r in &f.roots {
        let Some(subject) = subject_of(&f, r).map(|i| msgs[i].subject.as_slice()) else {
            continue;
        };
        if subject.is_empty() {
            continue;
        }
        match table.get(subject) {
            None => {
                table.insert(subject, r);
            }
            Some(&t) => {
                if f.msg(t).is_some()
                    && (f.msg(r).is_none() || (is_reply(&f, t) && !is_reply(&f, r)))
                {
                    table.insert(subject, r);
                }
            }
        }
    }
    // (5C) Merge each other root into the table's.
    let mut removed = vec![false; f.nodes.len()];
    let mut new_roots: Vec<usize> = Vec::new();
    for r in f.roots.clone() {
        if removed.get(r).copied().unwrap_or(true) {
            continue;
        }
        let Some(subject) = subject_of(&f, r).map(|i| msgs[i].subject.as_slice()) else {
            continue;
        };
        if subject.is_empty() {
            continue;
        }
        let Some(&t) = table.get(subject) else {
            continue;
        };
        if t == r {
            continue;
        }
        let (t_dummy, r_dummy) = (f.msg(t).is_none(), f.msg(r).is_none());
        if t_dummy && r_dummy {
            let kids = std::mem::take(&mut f.nodes[r].children);
            for &k in &kids {
                f.nodes[k].parent = Some(t);
            }
            f.nodes[t].children.extend(kids);
        } else if t_dummy || (is_reply(&f, r) && !is_reply(&f, t)) {
            f.link(t, r);
        } else {
            let d = f.add(None);
            removed.push(false);
            f.link(d, t);
            f.link(d, r);
            removed[t] = true;
            new_roots.push(d);
            table.insert(subject, d);
        }
        removed[r] = true;
    }
    let mut roots: Vec<usize> = f
        .roots
        .iter()
        .copied()
        .filter(|&r| !removed.get(r).copied().unwrap_or(false))
        .collect();
    roots.extend(new_roots.into_iter().filter(|&d| f.parent(d).is_none()));
    f.roots = roots;
    // (6) Sort every set of siblings by sent date.
    f.sort_all(msgs);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(num: u32, date: i64, subject: &str, id: &str, refs: &[&str]) -> ThreadMessage {
        let b = super::super::sort::base_subject(subject.as_bytes());
        ThreadMessage {
            num,
            order: num,
            date,
            subject: super::super::sort::casemap(b.text.as_bytes()),
            reply_or_forward: b.reply_or_forward,
            message_id: (!id.is_empty()).then(|| id.to_string()),
            references: refs.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn show(f: &Forest, msgs: &[ThreadMessage]) -> String {
        let mut s = String::new();
        f.write(msgs, &mut s);
        s
    }

    #[test]
    fn a_shuffled_conversation_with_a_missing_parent() {
        // a <- b <- c, a <- d; x is missing: e and f reply to it; g stands alone.
        let msgs = vec![
            msg(1, 40, "Re: topic", "c", &["a", "b"]),
            msg(2, 10, "topic", "a", &[]),
            msg(3, 50, "Re: other", "e", &["x"]),
            msg(4, 30, "Re: topic", "d", &["a"]),
            msg(5, 20, "Re: topic", "b", &["a"]),
            msg(6, 60, "Re: other", "f", &["x"]),
            msg(7, 5, "alone", "g", &[]),
        ];
        let f = references(&msgs);
        // The dummy for x keeps e and f together; threads by date of the first message.
        assert_eq!(show(&f, &msgs), "(7)(2 (5 1)(4))((3)(6))");
    }

    #[test]
    fn a_dummy_with_one_child_at_the_root_is_dropped() {
        let msgs = vec![msg(1, 10, "a", "m1", &["gone"]), msg(2, 5, "b", "m2", &[])];
        assert_eq!(show(&references(&msgs), &msgs), "(2)(1)");
    }

    #[test]
    fn subjects_gather_threads_without_references() {
        let msgs = vec![
            msg(1, 10, "meeting", "m1", &[]),
            msg(2, 20, "Re: meeting", "m2", &[]),
            msg(3, 30, "Re: meeting", "m3", &[]),
            msg(4, 15, "lunch", "m4", &[]),
            msg(5, 25, "lunch", "m5", &[]),
        ];
        let f = references(&msgs);
        // Replies become children of the original; two originals share a dummy.
        assert_eq!(show(&f, &msgs), "(1 (2)(3))((4)(5))");
    }

    #[test]
    fn loops_in_references_do_not_hang() {
        let msgs = vec![
            msg(1, 1, "x", "a", &["b", "a"]),
            msg(2, 2, "y", "b", &["a", "b"]),
            msg(3, 3, "z", "c", &["c", "c", "a", "c"]),
        ];
        let f = references(&msgs);
        let s = show(&f, &msgs);
        for n in ["1", "2", "3"] {
            assert_eq!(s.matches(n).count(), 1, "{s}");
        }
    }

    #[test]
    fn a_long_chain_is_written_inline_without_recursion() {
        let mut msgs = Vec::new();
        for i in 1..=50_000u32 {
            let refs: Vec<String> = if i > 1 {
                vec![format!("m{}", i - 1)]
            } else {
                vec![]
            };
            let r: Vec<&str> = refs.iter().map(|s| s.as_str()).collect();
            msgs.push(msg(i, i64::from(i), "Re: chain", &format!("m{i}"), &r));
        }
        let s = show(&references(&msgs), &msgs);
        assert!(s.starts_with("(1 2 3 "), "{}", &s[..20]);
        assert!(s.ends_with(" 50000)"));
    }

    #[test]
    fn duplicate_message_ids_count_once() {
        let msgs = vec![
            msg(1, 1, "a", "same", &[]),
            msg(2, 2, "b", "same", &[]),
            msg(3, 3, "c", "r", &["same"]),
        ];
        assert_eq!(show(&references(&msgs), &msgs), "(1 3)(2)");
    }

    #[test]
    fn ordered_subject_threads() {
        let msgs = vec![
            msg(1, 30, "b", "", &[]),
            msg(2, 10, "Re: a", "", &[]),
            msg(3, 20, "a", "", &[]),
            msg(4, 40, "A", "", &[]),
            msg(5, 5, "c", "", &[]),
            msg(6, 50, "b", "", &[]),
        ];
        let f = ordered_subject(&msgs);
        assert_eq!(f.len(), 3);
        assert_eq!(show(&f, &msgs), "(5)(2 (3)(4))(1 6)");
    }
}
