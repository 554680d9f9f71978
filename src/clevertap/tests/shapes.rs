//! Every input shape, plain and gzip-compressed.

use serde_json::json;

use super::support::{Fixture, gzip, places, read_items, read_outcomes, read_values};
use crate::clevertap::{NotText, ReadError, ReadItem, Shape, open};

#[test]
fn ndjson_records_with_places() {
    let fx = Fixture::new();
    let path = fx.file(
        "events.jsonl",
        "{\"ts\":1,\"eventName\":\"A\"}\n\n  {\"ts\":2}\r\n{\"ts\":3}",
    );
    let (info, outcomes) = read_outcomes(&path);
    assert_eq!(info.shape, Shape::Ndjson);
    assert!(!info.gzip);
    assert_eq!(places(&outcomes), [(1, 1), (3, 3), (4, 1)]);
    let (_, values) = read_values(&path);
    assert_eq!(
        values,
        [
            json!({"ts":1,"eventName":"A"}),
            json!({"ts":2}),
            json!({"ts":3})
        ]
    );
}

#[test]
fn bytes_read_reaches_the_size_on_disk() {
    let fx = Fixture::new();
    let text: String = (0..5000).map(|i| format!("{{\"ts\":{i}}}\n")).collect();
    for path in [fx.file("a.jsonl", &text), fx.gz("a.jsonl.gz", &text)] {
        let mut reader = open(&path).expect("open");
        let size = reader.info().size_on_disk;
        assert_eq!(size, std::fs::metadata(&path).expect("meta").len());
        assert_eq!(reader.by_ref().count(), 5000);
        assert_eq!(reader.bytes_read(), size);
    }
}

#[test]
fn non_json_first_line_names_the_event() {
    let fx = Fixture::new();
    let path = fx.file("x.json", "App Launched\n{\"ts\":1}\n{\"ts\":2}\n");
    let (info, outcomes) = read_outcomes(&path);
    assert_eq!(info.shape, Shape::Ndjson);
    assert_eq!(info.first_line_event_name.as_deref(), Some("App Launched"));
    assert_eq!(info.event_name_fallback(), Some("App Launched"));
    assert_eq!(places(&outcomes), [(2, 1), (3, 1)]);

    let only_name = fx.file("y.json", "\u{feff}Charged\r\n\r\n");
    let (info, items) = read_items(&only_name);
    assert_eq!(info.shape, Shape::Empty);
    assert_eq!(info.first_line_event_name.as_deref(), Some("Charged"));
    assert!(items.is_empty());

    // The rest may be a pretty document.
    let pretty = fx.file(
        "z.json",
        "UTM Visited\n[\n  {\"ts\": 1},\n  {\"ts\": 2}\n]\n",
    );
    let (info, outcomes) = read_outcomes(&pretty);
    assert_eq!(info.shape, Shape::JsonArray);
    assert_eq!(places(&outcomes), [(3, 3), (4, 3)]);
}

#[test]
fn pages_per_line() {
    let fx = Fixture::new();
    let page = r#"{"status":"success","next_cursor":"c1","records":[{"ts":1},{"ts":2}]}"#;
    let path = fx.file(
        "pages.jsonl",
        format!("{page}\n{page}\n{{\"status\":\"success\",\"next_cursor\":\"c\"}}\n"),
    );
    let (info, outcomes) = read_outcomes(&path);
    assert_eq!(info.shape, Shape::Ndjson);
    assert_eq!(places(&outcomes), [(1, 51), (1, 60), (2, 51), (2, 60)]);
    assert!(outcomes.iter().all(Result::is_ok));
}

#[test]
fn pretty_pages() {
    let fx = Fixture::new();
    let page = "{\n  \"records\": [\n    {\n      \"ts\": 1,\n      \"profile\": {\"a\": [1, {\"b\": \"]}\"}]}\n    },\n    {\"ts\": 2}\n  ],\n  \"status\": \"success\"\n}\n";
    let path = fx.file("page.json", page);
    let (info, outcomes) = read_outcomes(&path);
    assert_eq!(info.shape, Shape::EventsPage);
    assert_eq!(places(&outcomes), [(3, 5), (7, 5)]);
    let (_, values) = read_values(&path);
    assert_eq!(
        values[0],
        json!({"ts": 1, "profile": {"a": [1, {"b": "]}"}]}})
    );

    // Only a cursor: a page with nothing in it.
    let cursor = fx.file(
        "cursor.json",
        "{\n    \"status\": \"success\",\n    \"cursor\": \"ZiZ%3D\"\n}\n",
    );
    let (info, items) = read_items(&cursor);
    assert_eq!(info.shape, Shape::EventsPage);
    assert!(items.is_empty());

    // An error response says so.
    let fail = fx.file(
        "fail.json",
        "{\n  \"status\": \"fail\",\n  \"error\": \"Invalid cursor\",\n  \"code\": 1\n}\n",
    );
    let (_, outcomes) = read_outcomes(&fail);
    assert_eq!(outcomes.len(), 1);
    let (place, message) = outcomes[0].as_ref().expect_err("unreadable");
    assert_eq!(place.line, 1);
    assert!(
        message.contains("`fail`") && message.contains("Invalid cursor"),
        "{message}"
    );
}

#[test]
fn arrays_pretty_one_line_and_one_record_per_line() {
    let fx = Fixture::new();
    let pretty = fx.file("a.json", "[\n  {\"ts\": 1},\n  {\n    \"ts\": 2\n  }\n]\n");
    let (info, outcomes) = read_outcomes(&pretty);
    assert_eq!(info.shape, Shape::JsonArray);
    assert_eq!(places(&outcomes), [(2, 3), (3, 3)]);

    let one_line = fx.file("b.json", "[{\"ts\": 1}, {\"ts\": 2}]");
    let (info, outcomes) = read_outcomes(&one_line);
    assert_eq!(info.shape, Shape::JsonArray);
    assert_eq!(places(&outcomes), [(1, 2), (1, 13)]);

    let per_line = fx.file("c.json", "[{\"ts\": 1},\n{\"ts\": 2},\n{\"ts\": 3}]\n");
    let (info, values) = read_values(&per_line);
    assert_eq!(info.shape, Shape::JsonArray);
    assert_eq!(values.len(), 3);
}

#[test]
fn upload_payload_with_and_without_comments() {
    let fx = Fixture::new();
    let commented = "// an upload\n{\n  \"d\": [\n    {\n      \"identity\": \"a//b\", // who\n      \"ts\": 1468308340, // when\n      \"url\": \"http://x.com/a\\\"//\"\n    },\n    {\"type\": \"event\"} // last\n  ]\n}\n";
    let stripped = "{\n  \"d\": [\n    {\n      \"identity\": \"a//b\",\n      \"ts\": 1468308340,\n      \"url\": \"http://x.com/a\\\"//\"\n    },\n    {\"type\": \"event\"}\n  ]\n}\n";
    let (info, with_comments) = read_values(&fx.file("c.json", commented));
    assert_eq!(info.shape, Shape::UploadPayload);
    let (_, without) = read_values(&fx.file("s.json", stripped));
    assert_eq!(with_comments, without);
    assert_eq!(with_comments[0]["url"], json!("http://x.com/a\"//"));
    assert_eq!(with_comments.len(), 2);
}

#[test]
fn profile_response_and_concatenated_documents() {
    let fx = Fixture::new();
    let profile = "{\n  \"status\": \"success\",\n  \"record\": {\n    \"email\": \"jack@gmail.com\"\n  }\n}\n";
    let (info, outcomes) = read_outcomes(&fx.file("p.json", profile));
    assert_eq!(info.shape, Shape::JsonDocument);
    assert_eq!(places(&outcomes), [(3, 13)]);
    assert_eq!(
        outcomes[0].as_ref().map(|(_, v)| v.clone()).ok(),
        Some(json!({"email": "jack@gmail.com"}))
    );

    // A record that merely has a `status` key stays a record.
    let record = "{\n  \"status\": \"gold\",\n  \"identity\": \"7\"\n}\n{\n  \"ts\": 2\n}\n";
    let (info, outcomes) = read_outcomes(&fx.file("r.json", record));
    assert_eq!(info.shape, Shape::JsonDocument);
    assert_eq!(places(&outcomes), [(1, 1), (5, 1)]);
    assert!(outcomes.iter().all(Result::is_ok));
}

#[test]
fn gzip_around_every_shape() {
    let fx = Fixture::new();
    let ndjson = fx.gz("events.txt", "{\"ts\":1}\n{\"ts\":2}\n");
    let (info, values_read) = read_values(&ndjson);
    assert!(info.gzip);
    assert_eq!((info.shape, values_read.len()), (Shape::Ndjson, 2));

    let csv = fx.gz("export.csv.gzip", "ts,eventName\n1,A\n2,B\n");
    let (info, values_read) = read_values(&csv);
    assert_eq!((info.shape, values_read.len()), (Shape::Csv, 2));

    let page = fx.gz(
        "page.json.gz",
        "{\n\"status\":\"success\",\n\"records\":[\n{\"ts\":1}\n]\n}\n",
    );
    let (info, values_read) = read_values(&page);
    assert_eq!((info.shape, values_read.len()), (Shape::EventsPage, 1));

    // Several gzip members, as `cat a.gz b.gz` gives.
    let mut members = gzip(b"{\"ts\":1}\n");
    members.extend(gzip(b"{\"ts\":2}\n{\"ts\":3}\n"));
    let (_, values_read) = read_values(&fx.file("multi.gz", members));
    assert_eq!(values_read.len(), 3);
}

#[test]
fn csv_rows_become_nested_records() {
    let fx = Fixture::new();
    let text = "ts,eventName,profile.identity,profile.all_identities,deviceInfo.dimensions.width,eventProps.CT Source,eventProps.Price (U.S.),sessionProps.utm_source,profile.profileData.Fav.Color\n\
        20220330144227,Reply Sent,\"6102,6456\",\"[6102, deepak@x.com, 6456]\",65,Mobile,1.5,,blue\n\
        20220330144228,\"Multi\nLine\",,,,,,google,\n\
        1,ragged\n";
    let path = fx.file("export.csv", text);
    let (info, outcomes) = read_outcomes(&path);
    assert_eq!(info.shape, Shape::Csv);
    assert_eq!(outcomes.len(), 3);
    let (place, first) = outcomes[0].as_ref().expect("row 1");
    assert_eq!((place.csv_row, place.line), (Some(1), 2));
    assert_eq!(
        *first,
        json!({
            "ts": "20220330144227",
            "eventName": "Reply Sent",
            "profile": {
                "identity": "6102,6456",
                "all_identities": ["6102", "deepak@x.com", "6456"],
                "profileData": {"Fav.Color": "blue"}
            },
            "deviceInfo": {"dimensions": {"width": "65"}},
            "eventProps": {"CT Source": "Mobile", "Price (U.S.)": "1.5"}
        })
    );
    let (place, second) = outcomes[1].as_ref().expect("row 2");
    assert_eq!((place.csv_row, place.line), (Some(2), 3));
    assert_eq!(
        *second,
        json!({"ts": "20220330144228", "eventName": "Multi\nLine", "sessionProps": {"utm_source": "google"}})
    );
    let (place, message) = outcomes[2].as_ref().expect_err("ragged");
    assert_eq!((place.csv_row, place.line), (Some(3), 5));
    assert!(
        message.contains("row 3 has 2 cells but the header has 9 columns"),
        "{message}"
    );
    assert_eq!(
        place.to_string(),
        format!("{}: row 3 (line 5)", path.display())
    );
}

#[test]
fn bom_and_empty_files() {
    let fx = Fixture::new();
    let (info, values_read) = read_values(&fx.file("bom.jsonl", "\u{feff}{\"ts\":1}\n"));
    assert_eq!((info.shape, values_read.len()), (Shape::Ndjson, 1));
    let (info, values_read) = read_values(&fx.file("bom.csv", "\u{feff}ts,eventName\n1,A\n"));
    assert_eq!(info.shape, Shape::Csv);
    assert_eq!(values_read, [json!({"ts": "1", "eventName": "A"})]);
    for (name, text) in [("empty", ""), ("blank", " \n\r\n\t\n"), ("bom", "\u{feff}")] {
        let (info, items) = read_items(&fx.file(name, text));
        assert_eq!(info.shape, Shape::Empty, "{name}");
        assert!(items.is_empty(), "{name}");
    }
    let (info, items) = read_items(&fx.gz("empty.gz", ""));
    assert_eq!(
        (info.shape, items.len(), info.gzip),
        (Shape::Empty, 0, true)
    );
}

#[test]
fn export_file_names() {
    let fx = Fixture::new();
    let path = fx.gz(
        "1650-1650003600-App Launched-20220415-3-5.json.gz",
        "{\"ts\":1}\n",
    );
    let (info, _) = read_items(&path);
    assert_eq!(info.file_name_event_name.as_deref(), Some("App Launched"));
    assert_eq!(info.export_file_index, Some(3));
    assert_eq!(info.event_name_fallback(), Some("App Launched"));
    let (info, _) = read_items(&fx.file("events.jsonl", "{}\n"));
    assert_eq!(
        (info.file_name_event_name, info.export_file_index),
        (None, None)
    );
}

#[test]
fn chunks() {
    let fx = Fixture::new();
    let text: String = (0..10).map(|i| format!("{{\"ts\":{i}}}\n")).collect();
    let mut reader = open(&fx.file("a.jsonl", text)).expect("open");
    let mut sizes = Vec::new();
    let mut chunk = Vec::new();
    while reader.next_chunk(3, &mut chunk) {
        sizes.push(chunk.len());
        chunk.clear();
    }
    assert_eq!(sizes, [3, 3, 3, 1]);
    assert!(reader.is_finished());
    assert!(!reader.next_chunk(3, &mut chunk));
}

#[test]
fn refused_inputs() {
    let fx = Fixture::new();
    assert!(matches!(
        open(fx.path("").as_path()),
        Err(ReadError::IsDirectory { .. })
    ));
    assert!(matches!(
        open(&fx.path("missing.json")),
        Err(ReadError::Io { .. })
    ));
    let one_line = fx.file(
        "w1.json",
        r#"{"targetId": 1628144342, "profiles": [{"identity": "6425"}]}"#,
    );
    let pretty = fx.file(
        "w2.json",
        "{\n  \"targetId\": 1,\n  \"key_values\": {\"a\": \"b\"},\n  \"profiles\": []\n}\n",
    );
    let zipped = fx.gz("w3.json.gz", "{\"key_values\": {}, \"profiles\": []}\n");
    for path in [one_line, pretty, zipped] {
        let err = open(&path).err().expect("refused");
        assert!(matches!(err, ReadError::Webhook { .. }), "{err}");
        assert!(err.to_string().contains("webhook"));
    }
    let utf16 = fx.file("u.json", [0xff, 0xfe, b'{', 0]);
    let (_, items) = read_items(&utf16);
    assert!(
        matches!(&items[..], [ReadItem::Unreadable { message, .. }] if message.contains("UTF-16"))
    );
}

#[test]
fn first_line_refinements() {
    let fx = Fixture::new();
    // A comment after a one-line record: a doc snippet, read in document mode.
    let snippet = fx.file("s.json", "{\"ts\": 1} // when\n{\"ts\": 2}\n");
    let (info, values) = read_values(&snippet);
    assert_eq!((info.shape, values.len()), (Shape::JsonDocument, 2));

    // A whole page saved on one line is named a page.
    let page = fx.file(
        "p.json",
        r#"{"status":"success","records":[{"ts":1},{"ts":2}]}"#,
    );
    let (info, values) = read_values(&page);
    assert_eq!((info.shape, values.len()), (Shape::EventsPage, 2));

    // Binary files say what they are, once, and are not called empty.
    for (name, bytes, says, what) in [
        (
            "z.zip",
            b"PK\x03\x04\x14\x00rest".to_vec(),
            "ZIP",
            NotText::Zip,
        ),
        (
            "p.parquet",
            b"PAR1\x15\x04".to_vec(),
            "Parquet",
            NotText::Parquet,
        ),
        (
            "twice.gz",
            gzip(&gzip(b"{}\n")),
            "twice",
            NotText::GzipTwice,
        ),
        (
            "bin",
            vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0],
            "binary",
            NotText::Binary,
        ),
        (
            "u16.json",
            b"\xff\xfe{\x00}\x00".to_vec(),
            "UTF-16",
            NotText::Utf16,
        ),
    ] {
        let (info, items) = read_items(&fx.file(name, bytes));
        assert_eq!(info.shape, Shape::NotText(what), "{name}");
        assert!(
            matches!(&items[..], [ReadItem::Unreadable { message, .. }] if message.contains(says)),
            "{name}: {items:?}"
        );
    }

    // A long first line without commas is no event name: it is reported as a bad line.
    let long = fx.file("l.json", format!("{}\n{{\"ts\": 1}}\n", "x".repeat(600)));
    let (info, outcomes) = read_outcomes(&long);
    assert_eq!(
        (info.shape, info.first_line_event_name),
        (Shape::Ndjson, None)
    );
    assert_eq!(places(&outcomes), [(1, 1), (2, 1)]);
    assert!(outcomes[0].is_err() && outcomes[1].is_ok());
}
