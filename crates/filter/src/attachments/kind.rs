//! The kinds of file the block list speaks of, and which extensions name which kind.
//!
//! The default list follows common mail-gateway practice (the extensions Microsoft's and
//! Google's mail services refuse, and mox's list): programs, scripts, shortcuts, disk images,
//! installers and HTML applications are refused; archives are opened and looked into;
//! macro-enabled Office documents are disarmed by [`crate::cdr`] rather than refused, so they
//! are a kind a configuration may block but the defaults do not.

/// A kind of file, usable by name in `block` and `allow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Native programs and libraries (PE, ELF, Mach-O, Java, Android).
    Executable,
    /// Scripts a double click runs (Windows Script Host, PowerShell, batch, `#!`).
    Script,
    /// Files that point at and start something else (`.lnk`, `.url`, `.scf`).
    Shortcut,
    /// Disk images that Windows mounts with a double click, hiding their content from
    /// scanners (ISO 9660, UDF, VHD, IMG).
    DiskImage,
    /// Installer packages (MSI, MSIX/APPX, cabinets).
    Installer,
    /// Archives (looked into, not refused by default).
    Archive,
    /// Macro-enabled Office documents (disarmed by default, not refused).
    OfficeMacro,
    /// HTML applications and compiled HTML help, which run with the user's rights.
    HtmlApplication,
}

/// The kinds refused when nothing is configured.
pub const DEFAULT_BLOCKED: [Kind; 6] = [
    Kind::Executable,
    Kind::Script,
    Kind::Shortcut,
    Kind::DiskImage,
    Kind::Installer,
    Kind::HtmlApplication,
];

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Executable,
        Kind::Script,
        Kind::Shortcut,
        Kind::DiskImage,
        Kind::Installer,
        Kind::Archive,
        Kind::OfficeMacro,
        Kind::HtmlApplication,
    ];

    /// The name used in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Executable => "executable",
            Kind::Script => "script",
            Kind::Shortcut => "shortcut",
            Kind::DiskImage => "disk_image",
            Kind::Installer => "installer",
            Kind::Archive => "archive",
            Kind::OfficeMacro => "office_macro",
            Kind::HtmlApplication => "html_application",
        }
    }

    /// Reads a configured type name (`"executable"`, also `"disk-image"`).
    pub fn parse(s: &str) -> Option<Kind> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One known extension: its kind and what a person calls such a file.
struct KnownExtension {
    ext: &'static str,
    kind: Kind,
    label: &'static str,
}

const fn known(ext: &'static str, kind: Kind, label: &'static str) -> KnownExtension {
    KnownExtension { ext, kind, label }
}

/// The extensions we know, lower-case.
const KNOWN: &[KnownExtension] = &[
    // Programs.
    known("exe", Kind::Executable, "a Windows executable"),
    known("com", Kind::Executable, "a DOS/Windows program"),
    known(
        "scr",
        Kind::Executable,
        "a Windows screen saver (a program)",
    ),
    known(
        "pif",
        Kind::Executable,
        "a Windows program information file",
    ),
    known(
        "cpl",
        Kind::Executable,
        "a Control Panel applet (a program)",
    ),
    known("dll", Kind::Executable, "a Windows library"),
    known("ocx", Kind::Executable, "an ActiveX control"),
    known("sys", Kind::Executable, "a Windows driver"),
    known("drv", Kind::Executable, "a Windows driver"),
    known("vxd", Kind::Executable, "a Windows driver"),
    known("xll", Kind::Executable, "an Excel add-in library"),
    known("msc", Kind::Executable, "a Management Console file"),
    known("gadget", Kind::Executable, "a Windows gadget"),
    known("application", Kind::Executable, "a ClickOnce application"),
    known("xbap", Kind::Executable, "a browser application"),
    known("jar", Kind::Executable, "a Java program"),
    known("jnlp", Kind::Executable, "a Java Web Start program"),
    known("class", Kind::Executable, "a Java class"),
    known("apk", Kind::Executable, "an Android application"),
    known("dex", Kind::Executable, "an Android executable"),
    known("elf", Kind::Executable, "a Linux executable"),
    known("ade", Kind::Executable, "an Access project (runs code)"),
    known("adp", Kind::Executable, "an Access project (runs code)"),
    known("mde", Kind::Executable, "an Access database (runs code)"),
    known("accde", Kind::Executable, "an Access database (runs code)"),
    // Scripts.
    known("js", Kind::Script, "a JScript file"),
    known("jse", Kind::Script, "an encoded JScript file"),
    known("mjs", Kind::Script, "a JavaScript module"),
    known("vbs", Kind::Script, "a VBScript file"),
    known("vbe", Kind::Script, "an encoded VBScript file"),
    known("vb", Kind::Script, "a VBScript file"),
    known("wsf", Kind::Script, "a Windows Script File"),
    known("wsh", Kind::Script, "a Windows Script Host settings file"),
    known("wsc", Kind::Script, "a Windows Script Component"),
    known("sct", Kind::Script, "a Windows Script Component"),
    known("ps1", Kind::Script, "a PowerShell script"),
    known("psm1", Kind::Script, "a PowerShell module"),
    known("psd1", Kind::Script, "a PowerShell data file"),
    known("ps1xml", Kind::Script, "a PowerShell format file"),
    known("psc1", Kind::Script, "a PowerShell console file"),
    known("bat", Kind::Script, "a batch file"),
    known("cmd", Kind::Script, "a batch file"),
    known("reg", Kind::Script, "a registry file"),
    known("inf", Kind::Script, "a setup information file"),
    known("nsh", Kind::Script, "an installer script"),
    known("shb", Kind::Script, "a Windows shell scrap"),
    known("shs", Kind::Script, "a Windows shell scrap"),
    known("msh", Kind::Script, "a Monad shell script"),
    known("command", Kind::Script, "a macOS shell script"),
    // Shortcuts.
    known("lnk", Kind::Shortcut, "a Windows shortcut"),
    known("url", Kind::Shortcut, "an Internet shortcut"),
    known("scf", Kind::Shortcut, "a Windows Explorer command file"),
    known("website", Kind::Shortcut, "a pinned site shortcut"),
    known("appref-ms", Kind::Shortcut, "a ClickOnce shortcut"),
    known(
        "settingcontent-ms",
        Kind::Shortcut,
        "a Windows settings shortcut",
    ),
    known(
        "searchconnector-ms",
        Kind::Shortcut,
        "a Windows search connector",
    ),
    known(
        "library-ms",
        Kind::Shortcut,
        "a Windows library description",
    ),
    known("desktop", Kind::Shortcut, "a desktop launcher"),
    // Disk images.
    known("iso", Kind::DiskImage, "a disk image (ISO)"),
    known("img", Kind::DiskImage, "a disk image"),
    known("vhd", Kind::DiskImage, "a virtual hard disk (VHD)"),
    known("vhdx", Kind::DiskImage, "a virtual hard disk (VHDX)"),
    known("vmdk", Kind::DiskImage, "a virtual machine disk"),
    known("dmg", Kind::DiskImage, "a macOS disk image"),
    known("udf", Kind::DiskImage, "a disk image (UDF)"),
    // Installers.
    known("msi", Kind::Installer, "a Windows installer package"),
    known("msp", Kind::Installer, "a Windows installer patch"),
    known("mst", Kind::Installer, "a Windows installer transform"),
    known("msix", Kind::Installer, "a Windows app package"),
    known("msixbundle", Kind::Installer, "a Windows app package"),
    known("appx", Kind::Installer, "a Windows app package"),
    known("appxbundle", Kind::Installer, "a Windows app package"),
    known("cab", Kind::Installer, "a Windows cabinet"),
    known("diagcab", Kind::Installer, "a Windows troubleshooting pack"),
    known("diagcfg", Kind::Installer, "a Windows troubleshooting pack"),
    known(
        "diagpack",
        Kind::Installer,
        "a Windows troubleshooting pack",
    ),
    known("ins", Kind::Installer, "an Internet settings file"),
    known("isp", Kind::Installer, "an Internet settings file"),
    known("pkg", Kind::Installer, "a macOS installer package"),
    known("mpkg", Kind::Installer, "a macOS installer package"),
    // HTML applications.
    known("hta", Kind::HtmlApplication, "an HTML application"),
    known("chm", Kind::HtmlApplication, "a compiled HTML help file"),
    // Archives (opened and looked into).
    known("zip", Kind::Archive, "a ZIP archive"),
    known("7z", Kind::Archive, "a 7-Zip archive"),
    known("rar", Kind::Archive, "a RAR archive"),
    known("tar", Kind::Archive, "a tar archive"),
    known("gz", Kind::Archive, "a gzip file"),
    known("tgz", Kind::Archive, "a compressed tar archive"),
    known("bz2", Kind::Archive, "a bzip2 file"),
    known("xz", Kind::Archive, "an xz file"),
    known("arj", Kind::Archive, "an ARJ archive"),
    known("lzh", Kind::Archive, "an LHA archive"),
    known("ace", Kind::Archive, "an ACE archive"),
    // Macro-enabled Office documents (disarmed, not refused, by default).
    known("docm", Kind::OfficeMacro, "a macro-enabled Word document"),
    known("dotm", Kind::OfficeMacro, "a macro-enabled Word template"),
    known("xlsm", Kind::OfficeMacro, "a macro-enabled Excel workbook"),
    known("xltm", Kind::OfficeMacro, "a macro-enabled Excel template"),
    known("xlam", Kind::OfficeMacro, "an Excel add-in with macros"),
    known(
        "pptm",
        Kind::OfficeMacro,
        "a macro-enabled PowerPoint presentation",
    ),
    known(
        "potm",
        Kind::OfficeMacro,
        "a macro-enabled PowerPoint template",
    ),
    known("ppam", Kind::OfficeMacro, "a PowerPoint add-in with macros"),
    known("ppsm", Kind::OfficeMacro, "a macro-enabled PowerPoint show"),
    known(
        "sldm",
        Kind::OfficeMacro,
        "a macro-enabled PowerPoint slide",
    ),
];

/// The kind of an extension (lower-case, without the dot), when we know it.
pub fn kind_of_extension(ext: &str) -> Option<Kind> {
    KNOWN.iter().find(|k| k.ext == ext).map(|k| k.kind)
}

/// What a person calls a file with this extension (`"a Windows executable"`).
pub fn extension_label(ext: &str) -> Option<&'static str> {
    KNOWN.iter().find(|k| k.ext == ext).map(|k| k.label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_parse_back() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Kind::parse("Disk-Image"), Some(Kind::DiskImage));
        assert_eq!(Kind::parse("exe"), None);
    }

    #[test]
    fn macro_documents_and_archives_are_not_blocked_by_default() {
        assert!(!DEFAULT_BLOCKED.contains(&Kind::OfficeMacro));
        assert!(!DEFAULT_BLOCKED.contains(&Kind::Archive));
        assert_eq!(kind_of_extension("docm"), Some(Kind::OfficeMacro));
        assert_eq!(kind_of_extension("exe"), Some(Kind::Executable));
        assert_eq!(kind_of_extension("pdf"), None);
    }

    #[test]
    fn every_extension_is_listed_once_in_lower_case() {
        for (i, k) in KNOWN.iter().enumerate() {
            assert_eq!(k.ext, k.ext.to_ascii_lowercase());
            assert!(
                KNOWN.iter().skip(i + 1).all(|o| o.ext != k.ext),
                "{} twice",
                k.ext
            );
        }
    }
}
