//! Reply builders, onStatus, Reconnect Request, status codes.

use super::*;

#[test]
fn connect_result_is_what_clients_expect() {
    for (enc, caps) in [
        (ObjectEncoding::Amf0, None),
        (
            ObjectEncoding::Amf3,
            Some(CapsEx::RECONNECT | CapsEx::MULTITRACK),
        ),
    ] {
        let bytes = encode(&connect_result(1.0, enc, caps), ObjectEncoding::Amf0);
        let Command::Result(r) = decode(&bytes).unwrap() else {
            panic!("not a _result")
        };
        assert_eq!(r.transaction_id, 1.0);
        assert_eq!(
            r.property("fmsVer").and_then(Value::as_str),
            Some("FMS/3,0,1,123")
        );
        assert_eq!(
            r.property("capabilities").and_then(Value::as_f64),
            Some(31.0)
        );
        assert_eq!(
            r.property("capsEx").and_then(Value::as_f64),
            caps.map(|c| f64::from(c.bits()))
        );
        let info = r.info().expect("info object");
        assert_eq!(info.level, StatusLevel::Status);
        assert_eq!(info.code, StatusCode::ConnectSuccess);
        assert_eq!(info.code.as_str(), "NetConnection.Connect.Success");
        assert!(info.description.is_some());
        assert_eq!(
            info.get("objectEncoding").and_then(Value::as_f64),
            Some(enc.as_number())
        );
        // Exactly one info object.
        assert_eq!(r.values.len(), 1);
    }
}

#[test]
fn create_stream_result_and_error_response() {
    let bytes = encode(&create_stream_result(4.0, 1), ObjectEncoding::Amf0);
    assert_eq!(
        bytes,
        W::new().str("_result").num(4.0).null().num(1.0).bytes()
    );
    let Command::Result(r) = decode(&bytes).unwrap() else {
        panic!()
    };
    assert_eq!(r.number(), Some(1.0));

    let info = StatusInfo::new(StatusLevel::Error, StatusCode::ConnectRejected, "no");
    let bytes = encode(&error_response(1.0, info.clone()), ObjectEncoding::Amf0);
    let Command::Error(r) = decode(&bytes).unwrap() else {
        panic!()
    };
    assert_eq!(r.info(), Some(info));

    let bytes = encode(&empty_result(2.0), ObjectEncoding::Amf0);
    assert_eq!(bytes, W::new().str("_result").num(2.0).null().bytes());
}

#[test]
fn reconnect_request_on_status() {
    let info = StatusInfo::reconnect_request(Some("rtmp://b.example/live"), Some("maintenance"));
    let bytes = encode(&on_status(info.clone()), ObjectEncoding::Amf0);
    // onStatus, transaction 0, null command object, info object.
    let values = amf0::decode_all(&bytes, &limits()).unwrap();
    assert_eq!(values[0], Value::string("onStatus"));
    assert_eq!(values[1], Value::Number(0.0));
    assert_eq!(values[2], Value::Null);
    assert_eq!(
        values[3].get("code").and_then(Value::as_str),
        Some("NetConnection.Connect.ReconnectRequest")
    );
    assert_eq!(
        values[3].get("level").and_then(Value::as_str),
        Some("status")
    );
    assert_eq!(
        values[3].get("tcUrl").and_then(Value::as_str),
        Some("rtmp://b.example/live")
    );
    let Command::OnStatus(s) = decode(&bytes).unwrap() else {
        panic!()
    };
    assert_eq!(s.transaction_id, 0.0);
    assert_eq!(s.info, info);
    assert_eq!(s.info.tc_url(), Some("rtmp://b.example/live"));

    let bare = StatusInfo::reconnect_request(None, None);
    assert_eq!(bare.to_value().properties().map(Vec::len), Some(2));
    assert_eq!(bare.tc_url(), None);
}

#[test]
fn on_status_variants_and_errors() {
    let publish_start = W::new()
        .str("onStatus")
        .num(0.0)
        .null()
        .obj()
        .key("level")
        .str("status")
        .key("code")
        .str("NetStream.Publish.Start")
        .key("description")
        .str("key is now published.")
        .key("details")
        .str("key")
        .end()
        .bytes();
    let Command::OnStatus(s) = decode(&publish_start).unwrap() else {
        panic!()
    };
    assert_eq!(s.info, StatusInfo::publish_start("key"));
    assert_eq!(
        encode(&Command::OnStatus(s), ObjectEncoding::Amf0),
        publish_start
    );

    // Info object in the command object's place.
    let early = W::new()
        .str("onStatus")
        .num(0.0)
        .obj()
        .key("code")
        .str("X.Y")
        .key("level")
        .str("error")
        .end()
        .bytes();
    let Command::OnStatus(s) = decode(&early).unwrap() else {
        panic!()
    };
    assert_eq!(s.info.code, StatusCode::Other("X.Y".into()));
    assert_eq!(s.info.level, StatusLevel::Error);

    let no_code = W::new()
        .str("onStatus")
        .num(0.0)
        .null()
        .obj()
        .key("level")
        .str("status")
        .end();
    let err = decode(&no_code.bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "onStatus: invalid info object: code is missing"
    );
    let bad_level = W::new()
        .str("onFCPublish")
        .num(0.0)
        .null()
        .obj()
        .key("level")
        .str("fatal")
        .key("code")
        .str("c")
        .end();
    let err = decode(&bad_level.bytes()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("onFCPublish: invalid info object: level"),
        "{err}"
    );
    let no_info = W::new().str("onStatus").num(0.0).null().bytes();
    assert!(matches!(
        decode(&no_info),
        Err(CommandError::MissingArgument { .. })
    ));
    let info_string = W::new().str("onStatus").num(0.0).null().str("x").bytes();
    assert!(matches!(
        decode(&info_string),
        Err(CommandError::WrongType { .. })
    ));
}

#[test]
fn status_codes_parse_and_print() {
    for s in StatusCode::KNOWN {
        let code = StatusCode::parse(s);
        assert!(!matches!(code, StatusCode::Other(_)), "{s}");
        assert_eq!(code.as_str(), *s);
        assert_eq!(code.to_string(), *s);
    }
    assert_eq!(
        "NetStream.Play.Reset".parse::<StatusCode>(),
        Ok(StatusCode::PlayReset)
    );
    assert_eq!(StatusCode::from("Nope"), StatusCode::Other("Nope".into()));
    assert_eq!(StatusLevel::parse("Warning"), Some(StatusLevel::Warning));
    assert_eq!(StatusLevel::parse("info"), None);
}
