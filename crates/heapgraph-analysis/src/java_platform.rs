//! The Java platform's own packages, which more than one analysis tells apart from a program's code:
//! allocation sites look past their frames for the program's own line, and leak suspects held by them are
//! listed apart as library leaks.

/// The JDK's packages and Android's framework, as prefixes of class and method names.
pub const JAVA_PLATFORM_PACKAGES: &[&str] =
    &["java.", "javax.", "jdk.", "sun.", "com.sun.", "android."];
