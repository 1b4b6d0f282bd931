//! What the runner itself says in a step's output or a check's evidence, typed so that each
//! reader gets it in their language. Commands' own output stays as it came.
//!
//! A note is stored as one line: a record separator (U+001E), the note as JSON, a second
//! separator, then the English text — so whatever reads the stored text without this module
//! (a CSV export, a log, an older page) still reads a sentence. The runner strips U+001E from
//! commands' output, so no command can forge a note.
use crate::i18n::{count, Lang};
use serde::{Deserialize, Serialize};

/// The separator that opens and closes a note's JSON.
pub const MARK: char = '\u{1e}';

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum Note {
    /// `GET url → status in ms`.
    HttpAnswered {
        url: String,
        status: u16,
        ms: u64,
    },
    /// Followed through redirects to `landed`, `bytes` of body.
    HttpLanded {
        url: String,
        status: u16,
        landed: String,
        bytes: usize,
        ms: u64,
    },
    /// No answer; `error` is the HTTP client's own words.
    HttpFailed {
        url: String,
        error: String,
        ms: Option<u64>,
    },
    NotAUrl {
        url: String,
    },
    NoAssetReferenced,
    NoAssetOfOrigin,
    AssetNotFetched {
        asset: String,
    },
    AssetAnswered {
        asset: String,
        status: String,
    },
    ResponseTimes {
        requests: usize,
        median_ms: u64,
        worst_ms: u64,
        limit_ms: u64,
    },
    /// The log's last lines hold no CRITICAL/ERROR/EMERGENCY line.
    LogClean {
        lines: usize,
    },
    /// A file could not be read or written; `error` is the system's words.
    FileError {
        path: String,
        error: String,
    },
    TimedOut {
        seconds: u64,
    },
    CouldNotStart {
        error: String,
    },
    CouldNotRun {
        error: String,
    },
    /// `link -> target`, as read.
    LinkReads {
        link: String,
        target: String,
    },
    ReadLinkFailed {
        link: String,
        error: String,
    },
    NotAReleaseFolder {
        path: String,
    },
    /// The link already resolves to the release: nothing changed.
    AlreadyThere {
        link: String,
        target: String,
        release: String,
    },
    Switched {
        link: String,
        target: String,
        before: String,
    },
    MaintenanceWritten {
        file: String,
        path: String,
    },
    NoMaintenanceWritten {
        path: String,
    },
    MaintenanceAbsent {
        file: String,
    },
    MaintenanceStillServed {
        file: String,
        served: String,
    },
    MaintenanceRemoved {
        file: String,
        served: String,
    },
    GzipOk {
        bytes: u64,
        sha256: String,
    },
    NotWholeGzip {
        path: String,
        error: String,
    },
    ChecksumDiffers {
        actual: String,
        expected: String,
    },
    Removed {
        path: String,
    },
    NothingToCleanUp,
    /// The restore did not touch the database, for `reason`.
    NothingRestored {
        reason: Box<Note>,
    },
    /// Words of the runner's that have no note of their own (shown as they are).
    Plain {
        text: String,
    },
    NoChecksum,
    SqlStreamed {
        bytes: u64,
    },
    StreamingStopped {
        error: String,
    },
    ManualStepByAPerson,
    StepOutOfRange,
    /// Not run: a process of an earlier attempt at this step still runs.
    EarlierAttemptRunning {
        step: usize,
        group: i32,
    },
    /// Killed because a person insisted (`by`: who).
    KilledOnRequest {
        by: String,
    },
    /// Killed: the server stopped and the step did not end within the grace period.
    KilledAtShutdown {
        seconds: u64,
    },
    /// Queued by a version that did not keep the environment's settings with executions.
    QueuedWithoutSettings,
}

impl Note {
    /// The stored line.
    pub fn line(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        format!("{MARK}{json}{MARK}{}", self.text(Lang::En))
    }

    pub fn text(&self, lang: Lang) -> String {
        let fr = lang == Lang::Fr;
        let ms_word = |ms: u64| format!("{ms} ms");
        match self {
            Note::HttpAnswered { url, status, ms } => {
                let ms = ms_word(*ms);
                if fr {
                    format!("GET {url} → {status} en {ms}")
                } else {
                    format!("GET {url} → {status} in {ms}")
                }
            }
            Note::HttpLanded {
                url,
                status,
                landed,
                bytes,
                ms,
            } => {
                let ms = ms_word(*ms);
                if fr {
                    let bytes = count(lang, *bytes as i64, "octet", "octets");
                    format!("GET {url} → {status} sur {landed}, {bytes} en {ms}")
                } else {
                    let bytes = count(lang, *bytes as i64, "byte", "bytes");
                    format!("GET {url} → {status} at {landed}, {bytes} in {ms}")
                }
            }
            Note::HttpFailed { url, error, ms } => match (ms, fr) {
                (Some(ms), true) => format!("GET {url} : {error} (après {ms} ms)"),
                (Some(ms), false) => format!("GET {url}: {error} (after {ms} ms)"),
                (None, true) => format!("GET {url} : {error}"),
                (None, false) => format!("GET {url}: {error}"),
            },
            Note::NotAUrl { url } => pick(
                fr,
                format!("{url} : ce n'est pas une URL"),
                format!("{url}: not a URL"),
            ),
            Note::NoAssetReferenced => pick(
                fr,
                "la page d'accueil ne référence aucune ressource".into(),
                "no asset referenced by the home page".into(),
            ),
            Note::NoAssetOfOrigin => pick(
                fr,
                "aucune ressource de l'origine de l'URL de santé à récupérer".into(),
                "no asset of the health URL's origin to fetch".into(),
            ),
            Note::AssetNotFetched { asset } => pick(
                fr,
                format!("{asset} → non récupérée : autre origine que celle de l'URL de santé"),
                format!("{asset} → not fetched: another origin than the health URL's"),
            ),
            Note::AssetAnswered { asset, status } => format!("{asset} → {status}"),
            Note::ResponseTimes {
                requests,
                median_ms,
                worst_ms,
                limit_ms,
            } => {
                if fr {
                    format!(
                        "{} : médiane {median_ms} ms, pire {worst_ms} ms (limite {limit_ms} ms)",
                        count(lang, *requests as i64, "requête", "requêtes")
                    )
                } else {
                    format!(
                        "{}: median {median_ms} ms, worst {worst_ms} ms (limit {limit_ms} ms)",
                        count(lang, *requests as i64, "request", "requests")
                    )
                }
            }
            Note::LogClean { lines } => {
                if fr {
                    format!(
                        "{}, aucune ligne CRITICAL/ERROR/EMERGENCY",
                        count(lang, *lines as i64, "ligne lue", "lignes lues")
                    )
                } else {
                    format!(
                        "{}, no CRITICAL/ERROR/EMERGENCY line",
                        count(lang, *lines as i64, "line read", "lines read")
                    )
                }
            }
            Note::FileError { path, error } => {
                pick(fr, format!("{path} : {error}"), format!("{path}: {error}"))
            }
            Note::TimedOut { seconds } => pick(
                fr,
                format!("arrêtée après {seconds} s (délai dépassé)"),
                format!("stopped after {seconds} s (timeout)"),
            ),
            Note::CouldNotStart { error } => pick(
                fr,
                format!("n'a pas pu démarrer : {error}"),
                format!("could not start: {error}"),
            ),
            Note::CouldNotRun { error } => pick(
                fr,
                format!("n'a pas pu s'exécuter : {error}"),
                format!("could not run: {error}"),
            ),
            Note::LinkReads { link, target } => format!("{link} -> {target}"),
            Note::ReadLinkFailed { link, error } => pick(
                fr,
                format!("lecture du lien {link} : {error}"),
                format!("readlink {link}: {error}"),
            ),
            Note::NotAReleaseFolder { path } => pick(
                fr,
                format!("{path} n'est pas un dossier de release"),
                format!("{path} is not a release folder"),
            ),
            Note::AlreadyThere {
                link,
                target,
                release,
            } => pick(
                fr,
                format!(
                    "{link} pointe déjà vers {target} : rien n'a changé (vérifié : il mène à {release})"
                ),
                format!(
                    "{link} already points to {target}: nothing changed (checked: it resolves to {release})"
                ),
            ),
            Note::Switched {
                link,
                target,
                before,
            } => pick(
                fr,
                format!("{link} -> {target} (avant : {before})"),
                format!("{link} -> {target} (was {before})"),
            ),
            Note::MaintenanceWritten { file, path } => pick(
                fr,
                format!("page de maintenance écrite : {file} ({path})"),
                format!("wrote {file} ({path})"),
            ),
            Note::NoMaintenanceWritten { path } => pick(
                fr,
                format!(
                    "cette exécution n'a écrit aucune page de maintenance (l'étape 1 du §5.2 n'a pas tourné) : rien à retirer à {path}"
                ),
                format!(
                    "this execution wrote no maintenance page (§5.2 step 1 did not run): nothing to remove at {path}"
                ),
            ),
            Note::MaintenanceAbsent { file } => pick(
                fr,
                format!("{file} est absent : rien n'a été retiré"),
                format!("{file} is not there: nothing was removed"),
            ),
            Note::MaintenanceStillServed { file, served } => pick(
                fr,
                format!(
                    "{file} retiré, mais la release servie maintenant a une page de maintenance : {served}"
                ),
                format!(
                    "removed {file}, but the release served now has a maintenance page at {served}"
                ),
            ),
            Note::MaintenanceRemoved { file, served } => pick(
                fr,
                format!("{file} retiré ; {served} (servie maintenant) n'a pas de page de maintenance"),
                format!("removed {file}; {served} (served now) has no maintenance page"),
            ),
            Note::GzipOk { bytes, sha256 } => {
                if fr {
                    format!(
                        "gzip intègre ({} décompressés), sha256 {sha256}",
                        count(lang, *bytes as i64, "octet", "octets")
                    )
                } else {
                    format!(
                        "gzip OK ({} uncompressed), sha256 {sha256}",
                        count(lang, *bytes as i64, "byte", "bytes")
                    )
                }
            }
            Note::NotWholeGzip { path, error } => pick(
                fr,
                format!("{path} n'est pas un fichier gzip entier : {error}"),
                format!("{path} is not a whole gzip file: {error}"),
            ),
            Note::ChecksumDiffers { actual, expected } => pick(
                fr,
                format!("sha256 {actual} diffère de celui de l'inventaire, {expected}"),
                format!("sha256 {actual} differs from the inventoried {expected}"),
            ),
            Note::Removed { path } => pick(fr, format!("{path} supprimé"), format!("removed {path}")),
            Note::NothingToCleanUp => pick(
                fr,
                "rien à nettoyer".into(),
                "nothing to clean up".into(),
            ),
            Note::NothingRestored { reason } => pick(
                fr,
                format!("rien n'a été restauré : {}", reason.text(lang)),
                format!("nothing restored: {}", reason.text(lang)),
            ),
            Note::Plain { text } => text.clone(),
            Note::NoChecksum => pick(
                fr,
                "rien n'a été restauré : ce plan n'a pas d'empreinte pour sa sauvegarde (fait par une version antérieure) : révisez le plan".into(),
                "nothing restored: this plan has no checksum for its backup (made by an earlier version): revise the plan".into(),
            ),
            Note::SqlStreamed { bytes } => {
                if fr {
                    format!("{} de SQL transmis", count(lang, *bytes as i64, "octet", "octets"))
                } else {
                    format!("{} of SQL streamed", count(lang, *bytes as i64, "byte", "bytes"))
                }
            }
            Note::StreamingStopped { error } => pick(
                fr,
                format!("transmission interrompue : {error}"),
                format!("streaming stopped: {error}"),
            ),
            Note::EarlierAttemptRunning { step, group } => pick(
                fr,
                format!("non lancée : un processus de la tentative précédente de l'étape {step} (groupe {group}) tourne encore"),
                format!("not run: a process of the earlier attempt at step {step} (process group {group}) is still running"),
            ),
            Note::KilledOnRequest { by } => pick(
                fr,
                format!("arrêtée à la demande de {by}"),
                format!("killed at the request of user {by}"),
            ),
            Note::KilledAtShutdown { seconds } => pick(
                fr,
                format!("arrêtée : le serveur s'est arrêté et l'étape n'a pas fini en {seconds} s"),
                format!("killed: the server stopped and the step did not end within {seconds} s"),
            ),
            Note::StepOutOfRange => pick(
                fr,
                "étape hors du plan : abandonnez cette exécution".into(),
                "step out of range: abort this execution".into(),
            ),
            Note::QueuedWithoutSettings => pick(
                fr,
                "cette exécution a été mise en file avant que les exécutions gardent les réglages de l'environnement : abandonnez-la et exécutez le plan à nouveau".into(),
                "this execution was queued before executions kept the environment's settings: abort it and execute the plan again".into(),
            ),
            Note::ManualStepByAPerson => pick(
                fr,
                "une étape manuelle est faite par une personne".into(),
                "a manual step is done by a person".into(),
            ),
        }
    }
}

/// Milliseconds as a note holds them (JSON numbers: no u128).
pub fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn pick(fr: bool, french: String, english: String) -> String {
    if fr {
        french
    } else {
        english
    }
}

/// Stored text for `lang`: each note line in that language, every other line as it is.
pub fn render(text: &str, lang: Lang) -> String {
    text.split('\n')
        .map(|line| match parse(line) {
            Some(Ok(note)) => note.text(lang),
            // A note this version does not know: its English words.
            Some(Err(english)) => english.to_owned(),
            // The front of a note cut off by the output's size limit: its English words.
            None if line.contains(MARK) => line.rsplit(MARK).next().unwrap_or_default().to_owned(),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A line's note, or its English words when the note is unknown; `None` for a plain line.
fn parse(line: &str) -> Option<Result<Note, &str>> {
    let rest = line.strip_prefix(MARK)?;
    let (json, english) = rest.split_once(MARK)?;
    Some(serde_json::from_str(json).map_err(|_| english))
}

/// Command output made safe to store next to notes: no line of it can pass for one.
pub fn sanitize(output: &str) -> String {
    output.replace(MARK, "\u{fffd}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_reads_in_each_language_and_plain_lines_stay() {
        let stored = format!(
            "{}\nSome command output\n{}",
            Note::LogClean { lines: 1 }.line(),
            Note::MaintenanceAbsent {
                file: "/var/www/current/public/maintenance.html".into()
            }
            .line()
        );
        assert_eq!(
            render(&stored, Lang::Fr),
            "1 ligne lue, aucune ligne CRITICAL/ERROR/EMERGENCY\nSome command output\n\
             /var/www/current/public/maintenance.html est absent : rien n'a été retiré"
        );
        assert_eq!(
            render(&stored, Lang::En),
            "1 line read, no CRITICAL/ERROR/EMERGENCY line\nSome command output\n\
             /var/www/current/public/maintenance.html is not there: nothing was removed"
        );
        // Read without this module, the stored text still holds the English sentence.
        assert!(stored.contains("1 line read, no CRITICAL"));
    }

    #[test]
    fn notes_with_numbers_read_back() {
        // Internally tagged enums go through serde's buffer, which takes no u128.
        for note in [
            Note::HttpAnswered {
                url: "https://taskflow.app/".into(),
                status: 500,
                ms: 12,
            },
            Note::ResponseTimes {
                requests: 5,
                median_ms: 3,
                worst_ms: 9,
                limit_ms: 2000,
            },
            Note::NothingRestored {
                reason: Box::new(Note::ChecksumDiffers {
                    actual: "a".into(),
                    expected: "b".into(),
                }),
            },
            Note::GzipOk {
                bytes: 1,
                sha256: "c".into(),
            },
        ] {
            assert_eq!(render(&note.line(), Lang::Fr), note.text(Lang::Fr));
            assert_ne!(note.text(Lang::Fr), note.text(Lang::En));
        }
    }

    #[test]
    fn command_output_cannot_forge_a_note() {
        let forged = format!("{MARK}{{\"note\":\"nothing_to_clean_up\"}}{MARK}x");
        assert_eq!(render(&sanitize(&forged), Lang::Fr), sanitize(&forged));
        // An unknown note falls back to its English words.
        let unknown = format!("{MARK}{{\"note\":\"from_the_future\"}}{MARK}future words");
        assert_eq!(render(&unknown, Lang::Fr), "future words");
    }
}
