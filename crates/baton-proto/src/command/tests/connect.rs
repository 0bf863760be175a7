//! The connect command as FFmpeg and OBS send it, Go Away and E-RTMP properties.

use super::*;

/// FFmpeg's connect for `rtmp://localhost/live/key` when publishing
/// (libavformat/rtmpproto.c gen_connect), with OBS/FFmpeg-patch style
/// `supportsGoAway` bytes `00 0e "supportsGoAway" 01 01` when `go_away` is
/// given as raw property bytes.
fn ffmpeg_connect(go_away: Option<&[u8]>) -> Vec<u8> {
    let mut w = W::new()
        .str("connect")
        .num(1.0)
        .obj()
        .key("app")
        .str("live")
        .key("type")
        .str("nonprivate")
        .key("flashVer")
        .str("FMLE/3.0 (compatible; FMSc/1.0)")
        .key("swfUrl")
        .str("rtmp://localhost:1935/live")
        .key("tcUrl")
        .str("rtmp://localhost:1935/live");
    if let Some(raw) = go_away {
        w = w.raw(raw);
    }
    w.end().bytes()
}

#[test]
fn connect_as_ffmpeg_sends_it() {
    let cmd = decode(&ffmpeg_connect(None)).unwrap();
    let Command::Connect(c) = cmd else {
        panic!("not a connect: {cmd:?}")
    };
    assert_eq!(c.transaction_id, 1.0);
    assert_eq!(c.app, "live");
    assert_eq!(
        c.flash_ver.as_deref(),
        Some("FMLE/3.0 (compatible; FMSc/1.0)")
    );
    assert_eq!(c.swf_url.as_deref(), Some("rtmp://localhost:1935/live"));
    assert_eq!(c.tc_url.as_deref(), Some("rtmp://localhost:1935/live"));
    assert_eq!(
        c.other,
        vec![("type".to_owned(), Value::string("nonprivate"))]
    );
    assert_eq!(c.object_encoding, ObjectEncoding::Amf0);
    assert!(!c.supports_go_away);
    assert!(c.caps_ex.is_empty());
    assert_eq!(c.fpad, None);
    assert_eq!(c.audio_codecs, None);
    assert_eq!(c.four_cc_list, None);
    assert!(c.args.is_empty());
}

#[test]
fn connect_supports_go_away_forms() {
    let key = |v: &[u8]| {
        let mut raw = vec![0x00, 0x0e];
        raw.extend(b"supportsGoAway");
        raw.extend(v);
        raw
    };
    let go_away = |raw: Vec<u8>| match decode(&ffmpeg_connect(Some(&raw))).unwrap() {
        Command::Connect(c) => (c.supports_go_away, c.other),
        other => panic!("not a connect: {other:?}"),
    };
    // OBS and the FFmpeg patch: AMF0 boolean true.
    assert!(go_away(key(&[0x01, 0x01])).0);
    // The README's form: the number 1.
    assert!(go_away(key(&W::new().num(1.0).bytes())).0);
    // Anything else means no support, and is kept among the other properties.
    for (raw, kept) in [
        (key(&[0x01, 0x00]), Value::Boolean(false)),
        (key(&W::new().num(0.0).bytes()), Value::Number(0.0)),
        (key(&W::new().num(2.0).bytes()), Value::Number(2.0)),
        (key(&W::new().str("true").bytes()), Value::string("true")),
        (key(&[0x05]), Value::Null),
    ] {
        let (supports, other) = go_away(raw);
        assert!(!supports, "{kept:?} must not mean support");
        assert_eq!(other.last(), Some(&("supportsGoAway".to_owned(), kept)));
    }
    // Absent.
    assert!(!go_away(Vec::new()).0);
}

#[test]
fn connect_enhanced_rtmp_properties() {
    let caps = |n: f64| {
        let raw = W::new().key("capsEx").num(n).bytes();
        match decode(&ffmpeg_connect(Some(&raw))).unwrap() {
            Command::Connect(c) => (c.caps_ex, c.other.len()),
            other => panic!("not a connect: {other:?}"),
        }
    };
    let (c, _) = caps(1.0);
    assert!(c.contains(CapsEx::RECONNECT));
    assert!(!c.contains(CapsEx::MULTITRACK));
    let (c, _) = caps(15.0);
    assert_eq!(
        c,
        CapsEx::RECONNECT | CapsEx::MULTITRACK | CapsEx::MODEX | CapsEx::TIMESTAMP_NANO_OFFSET
    );
    // Not a whole u32: not read, kept ("type" plus capsEx).
    for bad in [-1.0, 1.5, 5e9] {
        assert_eq!(caps(bad), (CapsEx::NONE, 2), "capsEx {bad}");
    }

    let raw = W::new()
        .key("fourCcList")
        .raw(&[0x0a, 0, 0, 0, 2])
        .str("av01")
        .str("*")
        .key("videoFourCcInfoMap")
        .obj()
        .key("*")
        .num(4.0)
        .key("vp09")
        .num(3.0)
        .end()
        .key("audioFourCcInfoMap")
        .ecma(1)
        .key("Opus")
        .num(7.0)
        .end()
        .key("objectEncoding")
        .num(3.0)
        .bytes();
    let Command::Connect(c) = decode(&ffmpeg_connect(Some(&raw))).unwrap() else {
        panic!("not a connect")
    };
    assert_eq!(c.four_cc_list, Some(vec!["av01".into(), "*".into()]));
    assert_eq!(
        c.video_four_cc_info_map,
        Some(vec![
            ("*".into(), FourCcInfo::CAN_FORWARD),
            (
                "vp09".into(),
                FourCcInfo::CAN_DECODE | FourCcInfo::CAN_ENCODE
            ),
        ])
    );
    let audio = c.audio_four_cc_info_map.unwrap();
    assert_eq!(audio.len(), 1);
    assert!(
        audio[0]
            .1
            .contains(FourCcInfo::CAN_FORWARD | FourCcInfo::CAN_DECODE)
    );
    assert_eq!(c.object_encoding, ObjectEncoding::Amf3);
}

#[test]
fn connect_with_user_arguments_and_builder() {
    let c = Connect::new("live", "rtmp://h/live")
        .with_flash_ver("LNX 9,0,124,2")
        .with_supports_go_away(true)
        .with_caps_ex(CapsEx::RECONNECT)
        .with_property("type", Value::string("nonprivate"))
        .with_arg(Value::string("user"));
    let bytes = encode(&c.clone().into(), ObjectEncoding::Amf0);
    // The wire form of supportsGoAway is what OBS sends.
    let needle = [&[0x00, 0x0e][..], b"supportsGoAway", &[0x01, 0x01]].concat();
    assert!(bytes.windows(needle.len()).any(|w| w == needle));
    let back = decode(&bytes).unwrap();
    assert_eq!(back, Command::Connect(Box::new(c)));
}

#[test]
fn connect_errors_name_the_command() {
    let not_object = W::new().str("connect").num(1.0).str("live").bytes();
    let err = decode(&not_object).unwrap_err();
    assert!(matches!(
        &err,
        CommandError::WrongType { command, argument: "command object", found: "a string", .. }
            if command == "connect"
    ));
    assert!(err.to_string().contains("connect"), "{err}");

    let no_object = W::new().str("connect").num(1.0).bytes();
    assert!(matches!(
        decode(&no_object),
        Err(CommandError::MissingArgument {
            argument: "command object",
            ..
        })
    ));

    let no_app = W::new()
        .str("connect")
        .num(1.0)
        .obj()
        .key("tcUrl")
        .str("x")
        .end()
        .bytes();
    let err = decode(&no_app).unwrap_err();
    assert!(err.to_string().contains("app is missing"), "{err}");

    let app_number = W::new()
        .str("connect")
        .num(1.0)
        .obj()
        .key("app")
        .num(1.0)
        .end()
        .bytes();
    assert!(matches!(
        decode(&app_number),
        Err(CommandError::InvalidArgument { .. })
    ));

    let no_txn = W::new().str("connect").bytes();
    assert!(matches!(
        decode(&no_txn),
        Err(CommandError::MissingArgument {
            argument: "transaction ID",
            ..
        })
    ));
    let txn_string = W::new().str("connect").str("1").obj().end().bytes();
    assert!(matches!(
        decode(&txn_string),
        Err(CommandError::WrongType {
            argument: "transaction ID",
            ..
        })
    ));
}
