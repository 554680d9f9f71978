use super::*;
use crate::mapping::DEFAULT_RULES;

fn masker(salt: &str) -> Masker {
    Masker::new(&MaskSalt::from_text(salt), &Rules::default_rules().unwrap())
}

fn masked(masker: &Masker, text: &str) -> Json {
    let place = crate::clevertap::Place::at(std::sync::Arc::from(std::path::Path::new("t")), 1, 1);
    let value = crate::clevertap::parse_text(&place, text.as_bytes()).unwrap();
    masker.record(&place, &value).1
}

const RECORD: &str = r#"{"ts": 20220212004131, "eventName": "App Launched", "profile": {"identity": "7734501122,645676746", "objectId": "__g3c8d7e5", "platform": "Android", "phone": 918879382967, "name": "Priya Sharma", "email": "Priya.Sharma@example.com", "all_identities": ["priya.sharma@example.com", "7734501122"], "push_token": "fcm:3c8d7e5a", "profileData": {"Gender": "F", "MSG-email": true, "MSG-whatsapp": "true", "DOB": "$D_656208000", "Photo": "https://cdn.example.com/p.jpg"}}, "deviceInfo": {"make": "samsung", "model": "SM-G781B"}, "eventProps": {"CT Source": "Mobile", "CT Latitude": 19.076, "CT Longitude": -72.8777, "Favourite": "Running", "wzrk_id": "0_1", "session_props": {"utm_source": "news", "session_referrer": "https://x.example/?u=priya"}}}"#;

#[test]
fn personal_values_are_masked_and_allowlisted_ones_kept() {
    let value = masked(&masker("team"), RECORD);
    let text = value.to_string();
    for personal in [
        "7734501122",
        "645676746",
        "__g3c8d7e5",
        "918879382967",
        "Priya",
        "priya.sharma",
        "fcm:3c8d7e5a",
        "656208000",
        "cdn.example.com",
        "Running",
        "19.076",
        "72.8777",
        "x.example",
    ] {
        assert!(!text.contains(personal), "{personal} left in {text}");
    }
    for kept in [
        "20220212004131",
        "App Launched",
        "Android",
        "samsung",
        "SM-G781B",
        "\"CT Source\":\"Mobile\"",
        "\"wzrk_id\":\"0_1\"",
        "\"utm_source\":\"news\"",
        "\"MSG-whatsapp\":\"true\"",
        "\"MSG-email\":true",
    ] {
        assert!(text.contains(kept), "{kept} masked in {text}");
    }
}

#[test]
fn masked_values_keep_their_shape() {
    let value = masked(&masker("team"), RECORD);
    let profile = value.get("profile").unwrap();
    let identity = profile.get("identity").unwrap().as_str().unwrap();
    let (first, second) = identity.split_once(',').unwrap();
    assert!(first.starts_with("id:") && first.len() == 15, "{identity}");
    assert!(second.starts_with("id:"), "{identity}");
    let email = profile.get("email").unwrap().as_str().unwrap();
    assert!(crate::mapping::looks_like_email(email), "{email}");
    assert!(email.ends_with("@masked.invalid"), "{email}");
    let phone = profile.get("phone").unwrap();
    let phone_text = crate::mapping::number_text(phone).unwrap();
    assert!(phone.is_number() && phone_text.len() == 12, "{phone_text}");
    let dob = profile
        .pointer(["profileData", "DOB"])
        .unwrap()
        .as_str()
        .unwrap();
    assert!(
        dob.starts_with("$D_") && dob.len() == "$D_656208000".len(),
        "{dob}"
    );
    let lat = value
        .pointer(["eventProps", "CT Latitude"])
        .unwrap()
        .as_f64()
        .unwrap();
    let lon = value
        .pointer(["eventProps", "CT Longitude"])
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(
        lat.abs() <= 90.0 && (-180.0..0.0).contains(&lon),
        "{lat} {lon}"
    );
    // The list's entries mask like the fields they repeat: joins still work.
    let listed = profile.get("all_identities").unwrap().as_array().unwrap();
    assert_eq!(listed[1].as_str(), Some(first));
    assert_eq!(listed[0].as_str(), Some(email), "emails compare by case");
}

#[test]
fn the_same_value_masks_the_same_way_and_another_salt_otherwise() {
    let one = masker("team");
    let again = masked(&one, RECORD).to_string();
    assert_eq!(masked(&one, RECORD).to_string(), again);
    let other = masked(&masker("other team"), RECORD).to_string();
    assert_ne!(other, again);
    assert_eq!(one.text("identity", "x1"), one.text("identity", "x1"));
    assert_ne!(one.text("identity", "x1"), one.text("identity", "x2"));
}

#[test]
fn masked_identities_are_recognised_and_real_ones_are_not() {
    let value = masked(&masker("team"), RECORD);
    let identities = crate::mparticle::UserIdentities {
        customer_id: Some("id:0123456789ab".into()),
        email: None,
    };
    assert!(is_masked_identity(&identities));
    let email = value
        .pointer(["profile", "email"])
        .unwrap()
        .as_str()
        .unwrap();
    assert!(is_masked_identity(&crate::mparticle::UserIdentities {
        customer_id: Some("6102608768475532".into()),
        email: Some(email.to_string()),
    }));
    assert!(!is_masked_identity(&crate::mparticle::UserIdentities {
        customer_id: Some("id:42".into()),
        email: Some("a@example.com".into()),
    }));
}

#[test]
fn rules_without_a_mask_section_get_the_default_allowlist() {
    let start = DEFAULT_RULES.find("\n[mask]").unwrap();
    let old = &DEFAULT_RULES[..start];
    let rules = Rules::parse(old, "old.toml").unwrap();
    let default = Rules::default_rules().unwrap();
    assert_eq!(rules.mask.fields, default.mask.fields);
    assert!(default.mask.properties.iter().any(|p| p == "CT Source"));
}

#[test]
fn a_bad_mask_section_is_refused_with_its_place() {
    let text = DEFAULT_RULES.replace("properties = [\n", "propertys = [\n");
    let error = Rules::parse(&text, "r.toml").unwrap_err().to_string();
    assert!(
        error.contains("r.toml, line ") && error.contains("propertys"),
        "{error}"
    );
    let text = DEFAULT_RULES.replace("\"wzrk_*\"", "\"wz*rk\"");
    let error = Rules::parse(&text, "r.toml").unwrap_err().to_string();
    let line = text.lines().position(|l| l == "[mask]").unwrap() + 1;
    assert!(error.contains(&format!("line {line},")), "{error}");
    assert!(error.contains("wz*rk"), "{error}");
}

#[test]
fn a_salt_file_is_made_once_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feedlens").join("mask-salt");
    let made = load_or_create_salt(&path).unwrap();
    let read = load_or_create_salt(&path).unwrap();
    assert_eq!(made.bytes(), read.bytes());
    assert_eq!(made.bytes().len(), 32);
    assert!(!format!("{made:?}").contains(&made.to_hex()[..8]));
    std::fs::write(&path, "not a salt").unwrap();
    let error = load_or_create_salt(&path).unwrap_err().to_string();
    assert!(
        error.contains("mask-salt") && error.contains("--mask-salt"),
        "{error}"
    );
}

#[test]
fn an_email_in_a_kept_field_is_masked_all_the_same() {
    let value = masked(
        &masker("team"),
        r#"{"ts": "yesterday ana.lopez@example.com", "eventName": "App Launched", "profile": {"platform": "Android"}}"#,
    );
    let text = value.to_string();
    assert!(!text.contains("ana.lopez"), "{text}");
    assert!(text.contains("\"platform\":\"Android\""), "{text}");
}

#[test]
fn an_email_in_a_kept_nested_field_or_property_is_masked_too() {
    let value = masked(
        &masker("team"),
        r#"{"ts": 20220212004131, "eventName": "App Launched", "deviceInfo": {"make": "ana@example.com", "model": "SM-G781B"}, "eventProps": {"CT Source": "bob@example.com", "wzrk_id": "0_1"}}"#,
    );
    let text = value.to_string();
    assert!(!text.contains("ana@example.com"), "{text}");
    assert!(!text.contains("bob@example.com"), "{text}");
    assert!(text.contains("\"model\":\"SM-G781B\""), "{text}");
    assert!(text.contains("\"wzrk_id\":\"0_1\""), "{text}");
}
