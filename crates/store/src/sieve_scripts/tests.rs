use super::name::{file_name, name_of_file};
use super::*;
use crate::backend::SieveScripts;

const ACC: &str = "alice@example.test";

fn files(quota: SieveQuota) -> (tempfile::TempDir, SieveFiles) {
    let dir = tempfile::tempdir().unwrap();
    let f = SieveFiles::new(dir.path().join("sieve"), quota);
    (dir, f)
}

#[test]
fn put_list_get_and_activate() {
    let (dir, s) = files(SieveQuota::default());
    s.put(ACC, "vacation", b"keep;\r\n").unwrap();
    s.put(ACC, "lists", b"discard;").unwrap();
    assert_eq!(s.get(ACC, "vacation").unwrap(), b"keep;\r\n");
    assert_eq!(s.active(ACC).unwrap(), None);
    s.set_active(ACC, Some("lists")).unwrap();
    let list = s.list(ACC).unwrap();
    assert_eq!(
        list,
        vec![
            ScriptInfo {
                name: "lists".into(),
                active: true,
                size: 8
            },
            ScriptInfo {
                name: "vacation".into(),
                active: false,
                size: 7
            },
        ]
    );
    assert_eq!(
        s.active(ACC).unwrap(),
        Some(("lists".into(), b"discard;".to_vec()))
    );
    // An administrator finds them where the documentation says.
    let on_disk = dir.path().join("sieve/example.test/alice");
    assert_eq!(
        std::fs::read(on_disk.join("lists.sieve")).unwrap(),
        b"discard;"
    );
    assert_eq!(
        std::fs::read_to_string(on_disk.join("active")).unwrap(),
        "lists\n"
    );
    s.set_active(ACC, None).unwrap();
    assert_eq!(s.active(ACC).unwrap(), None);
    s.set_active(ACC, None).unwrap();
}

#[test]
fn replacing_a_script_keeps_it_active() {
    let (_d, s) = files(SieveQuota::default());
    s.put(ACC, "main", b"keep;").unwrap();
    s.set_active(ACC, Some("main")).unwrap();
    s.put(ACC, "main", b"discard;").unwrap();
    assert_eq!(
        s.active(ACC).unwrap(),
        Some(("main".into(), b"discard;".to_vec()))
    );
}

#[test]
fn deleting_the_active_script_is_refused() {
    let (_d, s) = files(SieveQuota::default());
    s.put(ACC, "main", b"keep;").unwrap();
    s.set_active(ACC, Some("main")).unwrap();
    assert!(matches!(
        s.delete(ACC, "main"),
        Err(SieveScriptError::Active(_))
    ));
    s.set_active(ACC, None).unwrap();
    s.delete(ACC, "main").unwrap();
    assert!(matches!(
        s.get(ACC, "main"),
        Err(SieveScriptError::NoSuchScript(_))
    ));
    assert!(matches!(
        s.delete(ACC, "main"),
        Err(SieveScriptError::NoSuchScript(_))
    ));
}

#[test]
fn activating_a_missing_script_is_nonexistent() {
    let (_d, s) = files(SieveQuota::default());
    assert!(matches!(
        s.set_active(ACC, Some("nope")),
        Err(SieveScriptError::NoSuchScript(_))
    ));
}

#[test]
fn rename_moves_the_active_mark_and_refuses_an_existing_name() {
    let (_d, s) = files(SieveQuota::default());
    s.put(ACC, "a", b"keep;").unwrap();
    s.put(ACC, "b", b"stop;").unwrap();
    s.set_active(ACC, Some("a")).unwrap();
    assert!(matches!(
        s.rename(ACC, "a", "b"),
        Err(SieveScriptError::AlreadyExists(_))
    ));
    assert!(matches!(
        s.rename(ACC, "x", "y"),
        Err(SieveScriptError::NoSuchScript(_))
    ));
    s.rename(ACC, "a", "c").unwrap();
    assert_eq!(
        s.active(ACC).unwrap(),
        Some(("c".into(), b"keep;".to_vec()))
    );
    let names: Vec<_> = s.list(ACC).unwrap().into_iter().map(|i| i.name).collect();
    assert_eq!(names, ["b", "c"]);
}

#[test]
fn quotas_name_which_limit_was_hit() {
    let quota = SieveQuota {
        max_scripts: 2,
        max_script_size: 10,
        max_total_size: 15,
    };
    let (_d, s) = files(quota);
    assert!(matches!(
        s.put(ACC, "big", &[b' '; 11]),
        Err(SieveScriptError::TooBig { size: 11, max: 10 })
    ));
    s.put(ACC, "one", &[b' '; 10]).unwrap();
    assert!(matches!(
        s.put(ACC, "two", &[b' '; 6]),
        Err(SieveScriptError::OverQuota { total: 16, max: 15 })
    ));
    s.put(ACC, "two", &[b' '; 5]).unwrap();
    assert!(matches!(
        s.put(ACC, "three", b"x"),
        Err(SieveScriptError::TooManyScripts { max: 2 })
    ));
    // Replacing one is not one more.
    s.put(ACC, "two", &[b' '; 4]).unwrap();
    s.check_space(ACC, "one", 10).unwrap();
    assert!(s.check_space(ACC, "new", 1).is_err());
}

#[test]
fn names_are_checked_and_mapped_to_safe_files() {
    for bad in [
        "",
        "a/b",
        "tab\there",
        "nul\0",
        "line\u{2028}",
        &"x".repeat(129),
    ] {
        assert!(validate_name(bad).is_err(), "{bad:?}");
    }
    for good in [
        "main",
        "My Script",
        "..",
        ".hidden",
        "100%",
        "ünïcode ✓",
        "active",
    ] {
        validate_name(good).unwrap();
        let f = file_name(good);
        assert!(
            !f.starts_with('.') && !f.contains('/') && f != "active",
            "{f}"
        );
        assert_eq!(name_of_file(&f).as_deref(), Some(good));
    }
    assert_eq!(name_of_file("active"), None);
    assert_eq!(name_of_file(".tmp-1-2"), None);
    assert_eq!(name_of_file("%zz.sieve"), None);
    // Only the canonical spelling of a name is a script.
    assert_eq!(name_of_file("%61.sieve"), None);
}

#[test]
fn a_script_named_active_does_not_clash_with_the_marker() {
    let (_d, s) = files(SieveQuota::default());
    s.put(ACC, "active", b"keep;").unwrap();
    s.set_active(ACC, Some("active")).unwrap();
    assert_eq!(
        s.active(ACC).unwrap(),
        Some(("active".into(), b"keep;".to_vec()))
    );
}

#[test]
fn accounts_do_not_see_each_other() {
    let (_d, s) = files(SieveQuota::default());
    s.put(ACC, "main", b"keep;").unwrap();
    assert!(s.list("bob@example.test").unwrap().is_empty());
    assert!(matches!(
        s.list("../etc"),
        Err(SieveScriptError::InvalidAccount(_))
    ));
}
