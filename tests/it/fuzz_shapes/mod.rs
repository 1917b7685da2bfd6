//! Structure-aware inputs for `tests/it/fuzz.rs`: typed values bolero generates (or decodes from a
//! corpus file) and renders into what a server or an archive would send, so that every input
//! gets past the first parse step, and each target compares the parser's answer with the value
//! the input was made from (an oracle written here, not a restatement of the parser).

#![allow(dead_code)]

use bolero::TypeGenerator;
use fakehub::zipbuild::ZipBuilder;

// ------------------------------------------------------------------------ Content-Range

/// A `Content-Range` as its parts, and how it is spelt.
#[derive(Debug, TypeGenerator)]
pub struct RangeShape {
    pub start: u64,
    pub end: u64,
    pub total: Option<u64>,
    /// Keep the numbers small, so consistent ranges (start <= end < total) are common.
    pub small: bool,
    pub spelling: RangeSpelling,
}

#[derive(Debug, Clone, Copy, TypeGenerator)]
pub enum RangeSpelling {
    Plain,
    /// `Bytes`, `BYTES`: range units are case-insensitive (RFC 9110 §14.1).
    UnitCase(bool),
    /// Spaces around the value (a header value is trimmed).
    Padded,
    /// A `+` before the start: not a number in a Content-Range.
    Signed,
    /// `bytes=` (a Range request's form), not a Content-Range.
    Equals,
}

impl RangeShape {
    pub fn numbers(&self) -> (u64, u64, Option<u64>) {
        let f = |n: u64| if self.small { n % 64 } else { n };
        (f(self.start), f(self.end), self.total.map(f))
    }

    pub fn render(&self) -> String {
        let (start, end, total) = self.numbers();
        let total = total.map_or("*".to_string(), |t| t.to_string());
        match self.spelling {
            RangeSpelling::Plain => format!("bytes {start}-{end}/{total}"),
            RangeSpelling::UnitCase(upper) => {
                let unit = if upper { "BYTES" } else { "Bytes" };
                format!("{unit} {start}-{end}/{total}")
            }
            RangeSpelling::Padded => format!("  bytes {start}-{end}/{total} \t"),
            RangeSpelling::Signed => format!("bytes +{start}-{end}/{total}"),
            RangeSpelling::Equals => format!("bytes={start}-{end}/{total}"),
        }
    }

    /// What a correct parser answers: the numbers when well-formed and consistent.
    pub fn expected(&self) -> Option<(u64, u64, Option<u64>)> {
        let (start, end, total) = self.numbers();
        let well_formed = !matches!(self.spelling, RangeSpelling::Signed | RangeSpelling::Equals);
        let consistent = start <= end && total.is_none_or(|t| end < t);
        (well_formed && consistent).then_some((start, end, total))
    }
}

// ------------------------------------------------------------------------------- Link

/// A `Link` header: pages with one relation each, as GitHub sends them, plus extra parameters
/// and spacing a server may add.
#[derive(Debug, TypeGenerator)]
pub struct LinkShape {
    #[generator(bolero::produce::<Vec<LinkPart>>().with().len(0usize..6))]
    pub parts: Vec<LinkPart>,
}

#[derive(Debug, TypeGenerator)]
pub struct LinkPart {
    pub page: u16,
    /// Path segments of the URL, from characters GitHub's page URLs use.
    #[generator(bolero::produce::<Vec<u8>>().with().len(0usize..12))]
    pub path: Vec<u8>,
    pub rel: Rel,
    pub quoted: bool,
    pub title: bool,
    pub spaces: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, TypeGenerator)]
pub enum Rel {
    Next,
    Prev,
    First,
    Last,
    /// `rel="nextpage"`: not `next`.
    NextPage,
}

impl LinkPart {
    pub fn url(&self) -> String {
        const CHARS: &[u8] = b"abcxyz019/-_.";
        let path: String = self
            .path
            .iter()
            .map(|b| CHARS[*b as usize % CHARS.len()] as char)
            .collect();
        format!(
            "https://api.example/repositories/1/{path}?per_page=100&page={}",
            self.page
        )
    }

    fn render(&self) -> String {
        let rel = match self.rel {
            Rel::Next => "next",
            Rel::Prev => "prev",
            Rel::First => "first",
            Rel::Last => "last",
            Rel::NextPage => "nextpage",
        };
        let rel = if self.quoted {
            format!("rel=\"{rel}\"")
        } else {
            format!("rel={rel}")
        };
        let title = if self.title { "; title=\"a page\"" } else { "" };
        let sp = if self.spaces { "  " } else { "" };
        format!("{sp}<{}>;{sp} {rel}{title}{sp}", self.url())
    }
}

impl LinkShape {
    pub fn render(&self) -> String {
        let parts: Vec<String> = self.parts.iter().map(LinkPart::render).collect();
        parts.join(", ")
    }

    /// The first page marked `next`.
    pub fn expected(&self) -> Option<String> {
        self.parts
            .iter()
            .find(|p| p.rel == Rel::Next)
            .map(LinkPart::url)
    }
}

// ----------------------------------------------------------------- Content-Disposition

/// A file name a blob host sends, in the forms it may take.
#[derive(Debug, TypeGenerator)]
pub struct DispositionShape {
    #[generator(bolero::produce::<Vec<NameChar>>().with().len(0usize..16))]
    pub name: Vec<NameChar>,
    pub form: DispositionForm,
}

#[derive(Debug, Clone, Copy, TypeGenerator)]
pub enum NameChar {
    Letter(u8),
    Digit(u8),
    Dot,
    Slash,
    Backslash,
    Space,
    Percent,
    Accented,
    Cjk,
}

#[derive(Debug, Clone, Copy, TypeGenerator)]
pub enum DispositionForm {
    /// `filename="…"` (names without a quote or `;`, which the plain form cannot carry).
    Plain,
    /// `filename*=UTF-8''…` percent-encoded (RFC 6266), with a plain fallback before it.
    Extended,
    /// Only `filename*=`.
    ExtendedOnly,
}

impl DispositionShape {
    pub fn name(&self) -> String {
        self.name
            .iter()
            .map(|c| match *c {
                NameChar::Letter(b) => (b'a' + b % 26) as char,
                NameChar::Digit(b) => (b'0' + b % 10) as char,
                NameChar::Dot => '.',
                NameChar::Slash => '/',
                NameChar::Backslash => '\\',
                NameChar::Space => ' ',
                NameChar::Percent => '%',
                NameChar::Accented => 'é',
                NameChar::Cjk => '名',
            })
            .collect()
    }

    pub fn render(&self) -> String {
        let name = self.name();
        let encoded: String = name
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b == b'.' {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        match self.form {
            DispositionForm::Plain => format!("attachment; filename=\"{name}\""),
            DispositionForm::Extended => {
                format!("attachment; filename=\"fallback.bin\"; filename*=UTF-8''{encoded}")
            }
            DispositionForm::ExtendedOnly => format!("attachment; filename*=UTF-8''{encoded}"),
        }
    }

    /// The last path component of the name (a server must not choose our directories), or
    /// nothing when that is empty.
    pub fn expected(&self) -> Option<String> {
        let name = self.name();
        let base = name.rsplit(['/', '\\']).next().unwrap_or("");
        (!base.is_empty()).then(|| base.to_string())
    }
}

// --------------------------------------------------------------------- artifact lists

/// One artifact as the API describes it, every optional field in each of its forms.
#[derive(Debug, TypeGenerator)]
pub struct ArtifactShape {
    pub id: u64,
    #[generator(bolero::produce::<String>().with().len(0usize..24))]
    pub name: String,
    pub size: u64,
    pub expired: bool,
    pub digest: DigestShape,
    pub run: Option<RunShape>,
}

#[derive(Debug, Clone, TypeGenerator)]
pub enum DigestShape {
    Absent,
    Null,
    Empty,
    /// `sha256:<hex>`, the label in capitals or not.
    Sha256([u8; 32], bool),
    /// A bare hex (older servers).
    Bare([u8; 32]),
    /// An algorithm artifetch cannot check.
    Other(u8),
}

#[derive(Debug, Clone, TypeGenerator)]
pub struct RunShape {
    pub id: Option<u64>,
    pub head_sha: Option<[u8; 20]>,
    #[generator(bolero::produce::<Option<String>>())]
    pub head_branch: Option<String>,
}

pub use artifetch::util::hex;

impl DigestShape {
    /// What `published_digest` must say: `None`, `Sha256(hex)` or `Other(algorithm)`.
    pub fn expected(&self) -> (&'static str, String) {
        match self {
            DigestShape::Absent | DigestShape::Null | DigestShape::Empty => ("none", String::new()),
            DigestShape::Sha256(h, _) | DigestShape::Bare(h) => ("sha256", hex(h)),
            DigestShape::Other(n) => ("other", format!("sha{}", 512 + u32::from(*n))),
        }
    }
}

impl ArtifactShape {
    pub fn json(&self) -> serde_json::Value {
        let mut a = serde_json::json!({
            "id": self.id,
            "name": self.name,
            "size_in_bytes": self.size,
            "expired": self.expired,
            "archive_download_url": format!("https://api.example/repos/o/r/actions/artifacts/{}/zip", self.id),
        });
        let digest = match &self.digest {
            DigestShape::Absent => None,
            DigestShape::Null => Some(serde_json::Value::Null),
            DigestShape::Empty => Some("".into()),
            DigestShape::Sha256(h, upper) => {
                let label = if *upper { "SHA256" } else { "sha256" };
                Some(format!("{label}:{}", hex(h)).into())
            }
            DigestShape::Bare(h) => Some(hex(h).into()),
            DigestShape::Other(n) => Some(format!("sha{}:abc", 512 + u32::from(*n)).into()),
        };
        if let Some(d) = digest {
            a["digest"] = d;
        }
        if let Some(run) = &self.run {
            a["workflow_run"] = serde_json::json!({
                "id": run.id,
                "head_sha": run.head_sha.map(|s| hex(&s)),
                "head_branch": run.head_branch,
            });
        }
        a
    }
}

// --------------------------------------------------------------------------- archives

/// A small archive's entries, named from components that include every hostile kind.
#[derive(Debug, TypeGenerator)]
pub struct ArchiveShape {
    #[generator(bolero::produce::<Vec<EntryShape>>().with().len(0usize..6))]
    pub entries: Vec<EntryShape>,
}

#[derive(Debug, TypeGenerator)]
pub struct EntryShape {
    #[generator(bolero::produce::<Vec<Component>>().with().len(1usize..4))]
    pub name: Vec<Component>,
    pub absolute: bool,
    /// Below [`ODD`], the odd components (`..`, `.git`, `.`, empty), the leading `/` and the
    /// link target are used as drawn; otherwise each odd component becomes a plain one, so
    /// most entries are ordinary and a whole archive is often accepted (and its files checked).
    pub odd: u8,
    pub kind: EntryKind,
}

/// One entry in about five keeps its odd parts.
const ODD: u8 = 52;

#[derive(Debug, Clone, Copy, PartialEq, Eq, TypeGenerator)]
pub enum Component {
    A,
    B,
    Spaced,
    Unicode,
    Dot,
    DotDot,
    Empty,
    Git,
    GitUpper,
}

#[derive(Debug, TypeGenerator)]
pub enum EntryKind {
    /// Deflated; the data is cut to 64 bytes.
    File(Vec<u8>),
    Stored(Vec<u8>),
    Dir,
    /// A symlink to these components (at most three).
    Link(Vec<Component>),
}

impl Component {
    fn text(self) -> &'static str {
        match self {
            Component::A => "a",
            Component::B => "b",
            Component::Spaced => "c d",
            Component::Unicode => "é",
            Component::Dot => ".",
            Component::DotDot => "..",
            Component::Empty => "",
            Component::Git => ".git",
            Component::GitUpper => ".GIT",
        }
    }

    /// The component, or a plain one in its place.
    fn plain(self) -> Component {
        match self {
            Component::Dot | Component::GitUpper => Component::A,
            Component::DotDot => Component::B,
            Component::Empty => Component::Spaced,
            Component::Git => Component::Unicode,
            plain => plain,
        }
    }

    fn is_plain(self) -> bool {
        matches!(
            self,
            Component::A | Component::B | Component::Spaced | Component::Unicode
        )
    }
}

/// Entry data, kept small so each case runs fast.
fn small(data: &[u8]) -> &[u8] {
    &data[..data.len().min(64)]
}

fn join(parts: &[Component]) -> String {
    parts.iter().map(|c| c.text()).collect::<Vec<_>>().join("/")
}

impl EntryShape {
    fn keeps_odd_parts(&self) -> bool {
        self.odd < ODD
    }

    fn is_absolute(&self) -> bool {
        self.absolute && self.keeps_odd_parts()
    }

    /// The name's components as used (see [`EntryShape::odd`]).
    fn parts(&self) -> Vec<Component> {
        self.name
            .iter()
            .map(|c| {
                if self.keeps_odd_parts() {
                    *c
                } else {
                    c.plain()
                }
            })
            .collect()
    }

    pub fn name(&self) -> String {
        let name = join(&self.parts());
        if self.is_absolute() {
            format!("/{name}")
        } else {
            name
        }
    }

    /// The name as the archive stores it (a directory's ends in `/`).
    pub fn stored_name(&self) -> String {
        let name = self.name();
        match self.kind {
            EntryKind::Dir if !name.ends_with('/') => format!("{name}/"),
            _ => name,
        }
    }

    /// The bytes the archive stores for it: a file's data, a link's target, nothing for a
    /// directory.
    pub fn data(&self) -> Vec<u8> {
        match &self.kind {
            EntryKind::File(data) | EntryKind::Stored(data) => small(data).to_vec(),
            EntryKind::Dir => Vec::new(),
            EntryKind::Link(target) => {
                let target = target.iter().take(3);
                let target: Vec<Component> = if self.keeps_odd_parts() {
                    target.copied().collect()
                } else {
                    target.map(|c| c.plain()).collect()
                };
                join(&target).into_bytes()
            }
        }
    }

    /// A name no extraction may write: `..`, absolute, or a `.git` component.
    pub fn is_hostile(&self) -> bool {
        self.is_absolute()
            || self
                .parts()
                .iter()
                .any(|c| matches!(c, Component::DotDot | Component::Git | Component::GitUpper))
    }

    /// A plain file (every component an ordinary name) and its bytes: if the archive is
    /// accepted, exactly these bytes are at exactly this path.
    pub fn plain_file(&self) -> Option<(String, &[u8])> {
        let parts = self.parts();
        let plain = !self.is_absolute() && parts.iter().all(|c| c.is_plain());
        match &self.kind {
            EntryKind::File(data) | EntryKind::Stored(data) if plain => {
                Some((join(&parts), small(data)))
            }
            _ => None,
        }
    }
}

impl ArchiveShape {
    pub fn build(&self) -> Vec<u8> {
        let mut zip = ZipBuilder::new();
        for e in &self.entries {
            let name = e.stored_name();
            let data = e.data();
            zip = match &e.kind {
                EntryKind::File(_) => zip.file(&name, &data),
                EntryKind::Stored(_) => zip.stored(&name, &data),
                EntryKind::Dir => zip.dir(&name),
                EntryKind::Link(_) => zip.symlink(&name, &String::from_utf8(data).unwrap()),
            };
        }
        zip.build()
    }

    pub fn has_hostile_name(&self) -> bool {
        self.entries.iter().any(EntryShape::is_hostile)
    }
}

// ------------------------------------------------------------ partial fetch: the tail

/// An archive, changes a hostile server makes to its tail (where the end record and the central
/// directory are), and how much of the tail a partial fetch reads first.
#[derive(Debug, TypeGenerator)]
pub struct TailShape {
    pub archive: ArchiveShape,
    #[generator(bolero::produce::<Vec<TailChange>>().with().len(0usize..4))]
    pub changes: Vec<TailChange>,
    /// Bytes of the tail read first (at least the end record's 22).
    pub window: u16,
}

#[derive(Debug, Clone, Copy, TypeGenerator)]
pub enum TailChange {
    /// XOR a byte, counted back from the end.
    Flip { back: u16, xor: u8 },
    /// Write a 32-bit field (an offset, a size, a count) near the end with an extreme value.
    Field { back: u16, value: Extreme },
    /// Cut bytes off the end.
    Cut(u8),
}

#[derive(Debug, Clone, Copy, TypeGenerator)]
pub enum Extreme {
    Zero,
    One,
    Max,
    Half,
    Small(u8),
}

impl TailShape {
    /// The archive with its changes, and whether any change was made.
    pub fn bytes(&self) -> (Vec<u8>, bool) {
        let mut zip = self.archive.build();
        let original = zip.clone();
        for change in &self.changes {
            let len = zip.len();
            match *change {
                TailChange::Flip { back, xor } => {
                    if let Some(i) = len.checked_sub(1 + back as usize % len.max(1)) {
                        zip[i] ^= xor;
                    }
                }
                TailChange::Field { back, value } => {
                    let value = match value {
                        Extreme::Zero => 0,
                        Extreme::One => 1,
                        Extreme::Max => u32::MAX,
                        Extreme::Half => u32::MAX / 2,
                        Extreme::Small(n) => u32::from(n),
                    };
                    if let Some(i) = len.checked_sub(4 + back as usize % len.max(1)) {
                        zip[i..i + 4].copy_from_slice(&value.to_le_bytes());
                    }
                }
                TailChange::Cut(n) => zip.truncate(len.saturating_sub(n as usize)),
            }
        }
        let changed = zip != original;
        (zip, changed)
    }

    /// The last `window` bytes (at least 22), as a partial fetch reads them.
    pub fn tail<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        let n = (self.window as usize).max(22).min(bytes.len());
        &bytes[bytes.len() - n..]
    }
}

/// CRC-32 (IEEE), bit by bit: slow, short, and independent of the crates under test.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
