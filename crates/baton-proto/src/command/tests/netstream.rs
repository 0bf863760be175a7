//! NetStream commands as FFmpeg sends them: publish sequence, play, and the others.

use super::*;

#[test]
fn ffmpeg_publish_sequence() {
    let release = W::new()
        .str("releaseStream")
        .num(2.0)
        .null()
        .str("key")
        .bytes();
    assert_eq!(
        decode(&release).unwrap(),
        Command::ReleaseStream {
            transaction_id: 2.0,
            stream_name: "key".into()
        }
    );
    let fc = W::new().str("FCPublish").num(3.0).null().str("key").bytes();
    assert_eq!(
        decode(&fc).unwrap(),
        Command::FcPublish {
            transaction_id: 3.0,
            stream_name: "key".into()
        }
    );
    let create = W::new().str("createStream").num(4.0).null().bytes();
    assert_eq!(
        decode(&create).unwrap(),
        Command::CreateStream {
            transaction_id: 4.0,
            command_object: Value::Null
        }
    );
    let publish = W::new()
        .str("publish")
        .num(5.0)
        .null()
        .str("key")
        .str("live")
        .bytes();
    let cmd = decode(&publish).unwrap();
    assert_eq!(cmd.name(), "publish");
    assert_eq!(cmd.transaction_id(), 5.0);
    assert_eq!(
        cmd,
        Command::Publish(Publish {
            transaction_id: 5.0,
            stream_name: "key".into(),
            publish_type: PublishType::Live
        })
    );
    // Our encoder writes exactly FFmpeg's bytes for these.
    assert_eq!(encode(&cmd, ObjectEncoding::Amf0), publish);
    assert_eq!(
        encode(&decode(&release).unwrap(), ObjectEncoding::Amf0),
        release
    );
    let unpublish = W::new()
        .str("FCUnpublish")
        .num(6.0)
        .null()
        .str("key")
        .bytes();
    assert!(matches!(
        decode(&unpublish).unwrap(),
        Command::FcUnpublish { transaction_id: 6.0, ref stream_name } if stream_name == "key"
    ));
    let delete = W::new()
        .str("deleteStream")
        .num(7.0)
        .null()
        .num(1.0)
        .bytes();
    assert_eq!(
        decode(&delete).unwrap(),
        Command::DeleteStream {
            transaction_id: 7.0,
            stream_id: 1.0
        }
    );
}

#[test]
fn publish_types_and_errors() {
    let publish = |t: Option<&str>| {
        let mut w = W::new().str("publish").num(5.0).null().str("key");
        if let Some(t) = t {
            w = w.str(t);
        }
        decode(&w.bytes())
    };
    let ty = |t| match publish(t).unwrap() {
        Command::Publish(p) => p.publish_type,
        other => panic!("{other:?}"),
    };
    assert_eq!(ty(None), PublishType::Live);
    assert_eq!(ty(Some("record")), PublishType::Record);
    assert_eq!(ty(Some("append")), PublishType::Append);
    assert_eq!(ty(Some("appendWithGap")), PublishType::AppendWithGap);
    assert_eq!(
        publish(Some("rec")).unwrap_err(),
        CommandError::UnknownPublishType {
            transaction_id: 5.0,
            stream_name: "key".into(),
            publish_type: "rec".into()
        }
    );

    let no_name = W::new().str("publish").num(5.0).null().bytes();
    let err = decode(&no_name).unwrap_err();
    assert!(
        matches!(&err, CommandError::MissingArgument { command, argument: "publishing name", .. } if command == "publish")
    );
    assert_eq!(
        err.to_string(),
        "publish: publishing name is missing (expected a string)"
    );
    let name_number = W::new().str("publish").num(5.0).null().num(1.0).bytes();
    assert_eq!(
        decode(&name_number).unwrap_err().to_string(),
        "publish: publishing name should be a string but is a number"
    );
}

#[test]
fn play_with_and_without_optional_arguments() {
    let only_name = W::new().str("play").num(4.0).null().str("key").bytes();
    assert_eq!(
        decode(&only_name).unwrap(),
        Command::Play(Play {
            transaction_id: 4.0,
            stream_name: "key".into(),
            start: -2.0,
            duration: -1.0,
            reset: true
        })
    );
    // FFmpeg: play, txn, null, name, start (live * 1000).
    let ffmpeg = W::new()
        .str("play")
        .num(4.0)
        .null()
        .str("key")
        .num(-2000.0)
        .bytes();
    let Command::Play(p) = decode(&ffmpeg).unwrap() else {
        panic!()
    };
    assert_eq!((p.start, p.duration, p.reset), (-2000.0, -1.0, true));
    let all = W::new()
        .str("play")
        .num(0.0)
        .null()
        .str("vod")
        .num(0.0)
        .num(10.0)
        .bool(false)
        .bytes();
    let Command::Play(p) = decode(&all).unwrap() else {
        panic!()
    };
    assert_eq!((p.start, p.duration, p.reset), (0.0, 10.0, false));
    // Null placeholders take the defaults.
    let nulls = W::new()
        .str("play")
        .num(0.0)
        .null()
        .str("k")
        .null()
        .null()
        .bytes();
    let Command::Play(p) = decode(&nulls).unwrap() else {
        panic!()
    };
    assert_eq!((p.start, p.duration, p.reset), (-2.0, -1.0, true));
    let bad_start = W::new()
        .str("play")
        .num(0.0)
        .null()
        .str("k")
        .str("0")
        .bytes();
    assert!(matches!(
        decode(&bad_start),
        Err(CommandError::WrongType {
            argument: "start",
            ..
        })
    ));
}

#[test]
fn other_netstream_commands() {
    let cases: Vec<(Vec<u8>, Command)> = vec![
        (
            W::new()
                .str("receiveAudio")
                .num(0.0)
                .null()
                .bool(false)
                .bytes(),
            Command::ReceiveAudio { flag: false },
        ),
        (
            W::new()
                .str("receiveVideo")
                .num(0.0)
                .null()
                .bool(true)
                .bytes(),
            Command::ReceiveVideo { flag: true },
        ),
        (
            W::new().str("seek").num(0.0).null().num(1500.0).bytes(),
            Command::Seek {
                transaction_id: 0.0,
                millis: 1500.0,
            },
        ),
        (
            W::new()
                .str("pause")
                .num(0.0)
                .null()
                .bool(true)
                .num(42.0)
                .bytes(),
            Command::Pause {
                transaction_id: 0.0,
                pause: true,
                millis: 42.0,
            },
        ),
        (
            W::new().str("closeStream").num(0.0).null().bytes(),
            Command::CloseStream {
                transaction_id: 0.0,
            },
        ),
        (
            W::new()
                .str("play2")
                .num(0.0)
                .null()
                .obj()
                .key("streamName")
                .str("hi")
                .end()
                .bytes(),
            Command::Play2(Play2 {
                transaction_id: 0.0,
                parameters: vec![("streamName".into(), Value::string("hi"))],
            }),
        ),
        (
            W::new().str("onBWDone").num(0.0).null().num(8192.0).bytes(),
            Command::OnBwDone {
                transaction_id: 0.0,
                bandwidth: Some(8192.0),
            },
        ),
        (
            W::new().str("_checkbw").num(5.0).null().bytes(),
            Command::CheckBw {
                transaction_id: 5.0,
            },
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(decode(&bytes).unwrap(), want);
        assert_eq!(encode(&want, ObjectEncoding::Amf0), bytes, "{want:?}");
    }
    let no_flag = W::new().str("receiveAudio").num(0.0).null().bytes();
    assert!(matches!(
        decode(&no_flag),
        Err(CommandError::MissingArgument { .. })
    ));
    let no_id = W::new().str("deleteStream").num(0.0).null().bytes();
    assert!(matches!(
        decode(&no_id),
        Err(CommandError::MissingArgument { .. })
    ));
}
