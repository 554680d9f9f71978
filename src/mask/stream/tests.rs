//! The one pass writes exactly what the parsed path writes, and gives way where it must.

use proptest::prelude::*;

use super::super::cache::TokenCache;
use super::super::{MaskSalt, Masker};
use super::{Fallback, write};
use crate::clevertap::Place;
use crate::mapping::Rules;

fn masker() -> Masker {
    // A few overlapping allowlist paths and prefixes, besides the default ones.
    let mut rules = Rules::default_rules().unwrap();
    rules.mask.fields.extend(
        [
            "profile.profileData.MSG-*",
            "profile.pro*",
            "eventProps.Items.Category",
        ]
        .map(String::from),
    );
    Masker::new(&MaskSalt::from_text("team"), &rules)
}

fn place() -> Place {
    Place::at(std::sync::Arc::from(std::path::Path::new("t.jsonl")), 3, 1)
}

/// What the one pass writes for `text`, with a fresh cache.
fn streamed(masker: &Masker, text: &str) -> Result<Vec<u8>, Fallback> {
    let mut out = Vec::new();
    write(
        masker,
        text.as_bytes(),
        &mut TokenCache::default(),
        &mut out,
    )
    .map(|()| out)
}

/// What the parsed path writes for `text` (parsed as the reader parses it).
fn parsed(masker: &Masker, text: &str) -> Result<Vec<u8>, String> {
    let value = crate::clevertap::parse_text(&place(), text.as_bytes())?;
    let mut out = Vec::new();
    masker.write_record(&value, &mut out);
    Ok(out)
}

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Records the pass takes, each written as the parsed path writes it.
const TAKEN: &[&str] = &[
    r#"{"ts":20220301100000,"eventName":"App Launched","profile":{"identity":"6102608768475532","objectId":"__g3c8","platform":"Android","phone":918879382967,"name":"Priya","email":"priya@example.com","all_identities":["priya@example.com","6102608768475532"],"push_token":"fcm:3c8d"},"deviceInfo":{"make":"samsung","model":"SM-G781B","dimensions":{"width":65,"height":146}},"eventProps":{"CT Source":"Mobile","CT Latitude":19.076,"CT Longitude":"-72.8777","Favourite":"Running","wzrk_id":"0_1","session_props":{"utm_source":"news","session_referrer":"https://x.example/?u=priya"}}}"#,
    r#"{"eventProps":{"Fav\"ourite":"Run\"ning","back\\slash":"a\\b","caf\u00e9":"\u00e9t\u00C9","nl":"a\nb\tc\r\f\b","sl":"http:\/\/x.example\/p","ctl":"\u0001\u001f\u007f","blank\u0020":"\u0020","flag":"\u0074rue"}}"#,
    r#"{"eventProps":{"uni":"日本語 — ü 😀","日本":"東京","emoji😀":"😀😀"},"profile":{"name":"Zoë","email":"ZOË@Example.COM"}}"#,
    r#"{"eventProps":{"a":1,"a":2,"a":"x","CT Source":"Mobile","CT Source":"Web","wzrk_id":"0_1","wzrk_id":5},"profile":{"identity":"a"},"profile":{"identity":"b"}}"#,
    r#"{"eventProps":{"Items":[{"Category":"books","Book name":"Dune","n":[1,-0,1e5,1.50,-2.5E-3,0.0,1E+5,-0.0e-0]},{"Category":"b@c.de","x":null,"y":true,"z":false,"e":""}],"wzrk_acts":[[[{"k":"v"}]]]}}"#,
    r#"{"eventProps":{"n0":-0,"n1":1e5,"n2":1.50,"n4":123456789012345678901234567890,"e":"","s":" ","t":true,"tt":"true","yes":"YES","list":"a@x.com, 7734501122","d":"$D_656208000","long":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}"#,
    r#"{"eventProps":{"session_props":{"inner":{"deep":{"deeper":"x"}},"utm_source":["a",{"b":"c"}]},"sessionProps":"str"},"sessionProps":{"k":"v"},"evtData":[1],"event_props":{}}"#,
    r#"{"ts":"yesterday ana@example.com","eventName":"App\u0020Launched","profile":{"platform":"And\"roid","platform":"a@b.co","profileData":{"MSG-email":true,"MSG-sms":"x@y.zz","DOB":"$D_656208000","Photo":"https://cdn.example.com/p.jpg"},"pro":{"x":["y@z.ab"]}},"deviceInfo":{"make":"a@b.com","model":"M\\1","dpi":[420,"a@b.cd"]}}"#,
    "  {  \"spaced\" :  \"value\" ,\n \"n\" : 1 ,\"arr\":[ 1 , 2 ,{ } ,[ ] ], \"eventProps\" : { \"CT Source\" : \"Mobile\" , \"x\" :\t\"y\" } }\r\n ",
    r#"{"\u0070rofile":{"identity":"x"},"Keys \" \\ \n":{"email":"a\/b@c.d","all_identities":["x\"y","a\u0040b.c"]}}"#,
    "{}",
    r#"{"eventName":"Deep","x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"#,
];

/// Texts the pass leaves to the parsed path: broken records, and what it does not write
/// byte for byte itself.
const LEFT: &[&str] = &[
    r#"{"eventName":"Broken","ts":1,"eventProps":{"a":"b"}"#,
    "{\"eventName\":\"Ctl\",\"v\":\"a\tb\"}",
    r#"{"eventName":"BadEsc","v":"a\xb"}"#,
    r#"{"eventName":"Lone","v":"\ud800"}"#,
    r#"{"eventName":"LoneLow","v":"\udc00x"}"#,
    r#"{"eventName":"Pair","v":"\ud83d\ude00"}"#,
    r#"{"eventName":"ShortU","v":"\u00e"}"#,
    r#"{"eventName":"Zero","ts":01}"#,
    r#"{"eventName":"Dot","ts":1.}"#,
    r#"{"eventName":"Minus","ts":-}"#,
    r#"{"eventName":"Exp","ts":1e}"#,
    r#"{"eventName":"Trail","ts":1} x"#,
    r#"{"eventName":"Comma","v":1,}"#,
    r#"[{"eventName":"Arr"}]"#,
    r#""just a string""#,
    r#"{"eventName":"tru","v":tru}"#,
    r#"{"eventName":"NaN","v":NaN}"#,
    r#"{"eventName":"single",'v':1}"#,
    "\u{feff}{\"eventName\":\"BOM\"}",
    "",
    "   ",
];

#[test]
fn the_pass_writes_what_the_parsed_path_writes() {
    let masker = masker();
    for text in TAKEN {
        let want = parsed(&masker, text).unwrap();
        let got = streamed(&masker, text).unwrap_or_else(|_| panic!("left to the parser: {text}"));
        assert_eq!(show(&got), show(&want), "{text}");
    }
}

#[test]
fn the_pass_gives_way_where_it_must_and_the_record_reads_as_before() {
    let masker = masker();
    let too_deep = format!("{{\"x\":{}1{}}}", "[".repeat(200), "]".repeat(200));
    // Deeper than the pass follows, not as deep as the reader refuses (the parsed path's
    // recursion needs a bigger stack than a test thread's in a debug build beyond this).
    let deep = format!("{{\"x\":{}1{}}}", "[".repeat(70), "]".repeat(70));
    let mut left: Vec<&str> = LEFT.to_vec();
    left.extend([too_deep.as_str(), deep.as_str()]);
    for text in &left {
        assert_eq!(streamed(&masker, text), Err(Fallback), "{text}");
    }
    // Whatever path a record takes, `record_text` gives what parsing and `record` give,
    // messages of unreadable records included.
    for text in left.iter().chain(TAKEN) {
        let want = crate::clevertap::parse_text(&place(), text.as_bytes())
            .map(|value| masker.record(&place(), &value).0);
        let got = masker
            .record_text(&place(), text.as_bytes())
            .map(|(text, _)| text);
        assert_eq!(got, want, "{text}");
    }
    let latin1 = b"{\"eventName\":\"caf\xe9\"}";
    let mut out = Vec::new();
    let fresh = &mut TokenCache::default();
    assert_eq!(write(&masker, latin1, fresh, &mut out), Err(Fallback));
    let message = masker.record_text(&place(), latin1).unwrap_err();
    assert!(message.contains("not valid UTF-8"), "{message}");
}

/// A JSON value to write in varied ways.
#[derive(Debug, Clone)]
enum Tree {
    Null,
    Bool(bool),
    Number(String),
    Text(String),
    List(Vec<Tree>),
    Object(Vec<(String, Tree)>),
}

fn names() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "ts",
        "eventName",
        "profile",
        "deviceInfo",
        "eventProps",
        "session_props",
        "sessionProps",
        "evtData",
        "identity",
        "email",
        "phone",
        "name",
        "push_token",
        "objectId",
        "platform",
        "make",
        "model",
        "dimensions",
        "CT Source",
        "CT Latitude",
        "CT Longitude",
        "wzrk_id",
        "wzrk_acts",
        "Items",
        "Category",
        "profileData",
        "MSG-email",
        "Photo",
        "x",
        "caf\u{e9}",
        "a\"b",
        "back\\slash",
        "new\nline",
        "",
        "日本",
    ])
    .prop_map(String::from)
}

fn texts() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            " ",
            "true",
            "YES",
            "0",
            "Mobile",
            "a@b.com",
            "A@B.COM",
            "x@y",
            "7734501122,645676746",
            "[a@x.com, 6102608768475532]",
            "$D_656208000",
            "https://x.example/p",
            "Zoë",
            "日本語 😀",
            "q\"uote",
            "b\\s",
            "tab\there",
            "ctl\u{1}",
            "19.0760",
            "-72.8777",
            "http:/x",
        ])
        .prop_map(String::from),
        "[ -~é日😀\\\\\"\t\n]{0,12}",
        "[a-z0-9@.,]{60,80}",
    ]
}

fn numbers() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "0", "-0", "1e5", "1.50", "-2.5E-3", "1E+5", "0.0", "19.076", "-181.5"
        ])
        .prop_map(String::from),
        "-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,6})?([eE][+-]?[0-9]{1,3})?",
    ]
}

fn trees() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        Just(Tree::Null),
        any::<bool>().prop_map(Tree::Bool),
        numbers().prop_map(Tree::Number),
        texts().prop_map(Tree::Text),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Tree::List),
            prop::collection::vec((names(), inner), 0..6).prop_map(Tree::Object),
        ]
    })
}

/// Writes `tree` as JSON text, with white space and escapes where `style` says.
fn render(tree: &Tree, style: &mut dyn Iterator<Item = u8>, out: &mut String) {
    match tree {
        Tree::Null => out.push_str("null"),
        Tree::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
        Tree::Number(text) => out.push_str(text),
        Tree::Text(text) => string(text, style, out),
        Tree::List(items) => sequence(('[', ']'), items, style, out, |item, style, out| {
            render(item, style, out);
            space(out, style);
        }),
        Tree::Object(members) => {
            sequence(
                ('{', '}'),
                members,
                style,
                out,
                |(key, value), style, out| {
                    string(key, style, out);
                    space(out, style);
                    out.push(':');
                    render(value, style, out);
                },
            );
        }
    }
}

/// Items between brackets, separated by commas, each after the white space `style` says.
fn sequence<T>(
    (open, close): (char, char),
    items: &[T],
    style: &mut dyn Iterator<Item = u8>,
    out: &mut String,
    mut each: impl FnMut(&T, &mut dyn Iterator<Item = u8>, &mut String),
) {
    out.push(open);
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        space(out, style);
        each(item, style, out);
    }
    out.push(close);
}

/// White space, or none, as `style` says.
fn space(out: &mut String, style: &mut dyn Iterator<Item = u8>) {
    if let Some(pick @ 0..=1) = style.next() {
        out.push_str([" ", "\n\t "][usize::from(pick)]);
    }
}

/// A JSON string, each character written plain or escaped as `style` says.
fn string(text: &str, style: &mut dyn Iterator<Item = u8>, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        let pick = style.next().unwrap_or(0);
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' if pick.is_multiple_of(2) => out.push_str("\\n"),
            '\t' if pick.is_multiple_of(2) => out.push_str("\\t"),
            c if (c as u32) < 0x20 || pick == 7 => {
                let mut units = [0; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            '/' if pick == 5 => out.push_str("\\/"),
            c => out.push(c),
        }
    }
    out.push('"');
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Varied records (allowlisted paths, property containers, duplicates, escapes, white
    /// space, numbers of every shape): where the pass takes the text, its bytes are the parsed
    /// path's; it takes every one without surrogate escapes.
    #[test]
    fn the_pass_matches_the_parsed_path(
        members in prop::collection::vec((names(), trees()), 0..8),
        style in prop::collection::vec(0u8..12, 1..64),
    ) {
        let masker = masker();
        let mut text = String::new();
        let mut style_iter = style.iter().copied().cycle();
        render(&Tree::Object(members), &mut style_iter, &mut text);
        let want = parsed(&masker, &text);
        match streamed(&masker, &text) {
            Ok(got) => prop_assert_eq!(show(&got), show(&want.unwrap()), "{}", text),
            Err(Fallback) => prop_assert!(
                text.contains("\\ud8") || text.contains("\\ud9") || text.contains("\\uda")
                    || text.contains("\\udb"),
                "left to the parser: {}", text
            ),
        }
    }
}

#[test]
fn tokens_from_the_thread_cache_are_the_tokens_made_afresh() {
    // More values than the cache has slots, twice over: hits, misses and slots taken over all
    // give the token a fresh cache gives.
    let masker = masker();
    let mut cache = TokenCache::default();
    let records: Vec<String> = (0..3000)
        .map(|n| {
            format!(
                r#"{{"profile":{{"identity":"u{n}","phone":{}}},"eventProps":{{"Plan":"{}","n":{}}}}}"#,
                910_000_000_000_u64 + n % 700,
                ["Mobile", "Web", "true", " ", "a@b.co"][n as usize % 5],
                n % 37
            )
        })
        .collect();
    for _ in 0..2 {
        for text in &records {
            let mut out = Vec::new();
            write(&masker, text.as_bytes(), &mut cache, &mut out).unwrap();
            assert_eq!(
                show(&out),
                show(&streamed(&masker, text).unwrap()),
                "{text}"
            );
        }
    }
}

#[test]
fn flags_and_blanks_are_kept_whatever_their_spelling() {
    use super::super::token::kept_as_is;
    for kept in [
        "",
        " ",
        "true",
        " TRUE ",
        "Yes",
        "no\u{a0}",
        "\u{3000}0",
        "1",
        "False",
    ] {
        assert!(kept_as_is(kept), "{kept:?}");
    }
    for masked in [
        "Mobile",
        "truex",
        "yes no",
        "10",
        "falsey",
        "t",
        "\u{a0}Mobile1",
    ] {
        assert!(!kept_as_is(masked), "{masked:?}");
    }
}
