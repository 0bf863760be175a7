//! Proptest strategies for AMF0 values (no NaN, no AVM+ switch while the
//! AMF3 codec is not written), commands and data messages.

use proptest::prelude::*;

use crate::amf::amf0::{Properties, Value};
use crate::command::*;

/// Finite doubles (NaN is not equal to itself).
fn num() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("not NaN", |n| !n.is_nan()),
        (-10i32..10).prop_map(f64::from),
    ]
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,12}"
}

/// A property name the AMF0 encoder can write (not empty).
fn key() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_]{0,8}"
}

fn props(value: impl Strategy<Value = Value>) -> impl Strategy<Value = Properties> {
    prop::collection::vec((key(), value), 0..4)
}

/// Any AMF0 value but NaN and the AVM+ switch.
pub(crate) fn arb_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        num().prop_map(Value::Number),
        any::<bool>().prop_map(Value::Boolean),
        text().prop_map(Value::String),
        Just(Value::Null),
        Just(Value::Undefined),
        Just(Value::Unsupported),
        any::<u16>().prop_map(Value::Reference),
        text().prop_map(Value::XmlDocument),
        (num(), any::<i16>()).prop_map(|(millis, time_zone)| Value::Date { millis, time_zone }),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            props(inner.clone()).prop_map(Value::Object),
            props(inner.clone()).prop_map(Value::EcmaArray),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::StrictArray),
            (key(), props(inner)).prop_map(|(class_name, properties)| Value::TypedObject {
                class_name,
                properties
            }),
        ]
    })
    .boxed()
}

fn values() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(arb_value(), 0..3)
}

/// Arbitrary bytes (0x11 included, so the AVM+ switch into AMF3 is reached).
pub(crate) fn any_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

fn status_code() -> impl Strategy<Value = StatusCode> {
    prop_oneof![
        prop::sample::select(StatusCode::KNOWN).prop_map(StatusCode::parse),
        "Zz\\.[a-z]{0,8}".prop_map(StatusCode::Other),
    ]
}

fn level() -> impl Strategy<Value = StatusLevel> {
    prop::sample::select(vec![
        StatusLevel::Status,
        StatusLevel::Warning,
        StatusLevel::Error,
    ])
}

/// Other properties that are never read as typed ones.
fn other_props() -> impl Strategy<Value = Properties> {
    prop::collection::vec(("x_[a-z]{1,6}", arb_value()), 0..3)
}

pub(crate) fn arb_status_info() -> impl Strategy<Value = StatusInfo> {
    (
        level(),
        status_code(),
        prop::option::of(text()),
        other_props(),
    )
        .prop_map(|(level, code, description, other)| StatusInfo {
            level,
            code,
            description,
            other,
        })
}

fn caps_map() -> impl Strategy<Value = Option<Vec<(String, FourCcInfo)>>> {
    prop::option::of(prop::collection::vec(
        (key(), any::<u32>().prop_map(FourCcInfo)),
        0..3,
    ))
}

fn arb_connect() -> impl Strategy<Value = Connect> {
    let strings = (
        text(),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(text()),
    );
    let numbers = (
        prop::option::of(any::<bool>()),
        prop::option::of(num()),
        prop::option::of(num()),
        prop::option::of(num()),
    );
    let enhanced = (
        any::<bool>(),
        any::<bool>(),
        any::<u32>(),
        prop::option::of(prop::collection::vec(text(), 0..3)),
        caps_map(),
        caps_map(),
    );
    (num(), strings, numbers, enhanced, other_props(), values()).prop_map(
        |(transaction_id, s, n, e, other, args)| Connect {
            transaction_id,
            app: s.0,
            flash_ver: s.1,
            swf_url: s.2,
            tc_url: s.3,
            page_url: s.4,
            fpad: n.0,
            audio_codecs: n.1,
            video_codecs: n.2,
            video_function: n.3,
            object_encoding: if e.0 {
                ObjectEncoding::Amf3
            } else {
                ObjectEncoding::Amf0
            },
            supports_go_away: e.1,
            caps_ex: CapsEx(e.2),
            four_cc_list: e.3,
            video_four_cc_info_map: e.4,
            audio_four_cc_info_map: e.5,
            other,
            args,
        },
    )
}

fn response() -> impl Strategy<Value = Response> {
    (num(), arb_value(), values()).prop_map(|(transaction_id, command_object, values)| Response {
        transaction_id,
        command_object,
        values,
    })
}

/// A stream-name command built from a transaction ID and a name.
type Named = fn(f64, String) -> Command;

/// Every variant [`Command::decode`] produces.
pub(crate) fn arb_command() -> impl Strategy<Value = Command> {
    let named: Vec<Named> = vec![
        |transaction_id, stream_name| Command::ReleaseStream {
            transaction_id,
            stream_name,
        },
        |transaction_id, stream_name| Command::FcPublish {
            transaction_id,
            stream_name,
        },
        |transaction_id, stream_name| Command::FcUnpublish {
            transaction_id,
            stream_name,
        },
        |transaction_id, stream_name| Command::FcSubscribe {
            transaction_id,
            stream_name,
        },
        |transaction_id, stream_name| Command::GetStreamLength {
            transaction_id,
            stream_name,
        },
    ];
    let publish_type = prop::sample::select(vec![
        PublishType::Live,
        PublishType::Record,
        PublishType::Append,
        PublishType::AppendWithGap,
    ]);
    prop_oneof![
        arb_connect().prop_map(Command::from),
        num().prop_map(|transaction_id| Command::Close { transaction_id }),
        (num(), arb_value()).prop_map(|(transaction_id, command_object)| {
            Command::CreateStream {
                transaction_id,
                command_object,
            }
        }),
        response().prop_map(Command::Result),
        response().prop_map(Command::Error),
        (num(), arb_status_info()).prop_map(|(transaction_id, info)| Command::OnStatus(OnStatus {
            transaction_id,
            info
        })),
        (num(), text(), num(), num(), any::<bool>()).prop_map(
            |(transaction_id, stream_name, start, duration, reset)| Command::Play(Play {
                transaction_id,
                stream_name,
                start,
                duration,
                reset
            })
        ),
        (num(), props(arb_value())).prop_map(|(transaction_id, parameters)| Command::Play2(
            Play2 {
                transaction_id,
                parameters
            }
        )),
        (num(), num()).prop_map(|(transaction_id, stream_id)| Command::DeleteStream {
            transaction_id,
            stream_id
        }),
        num().prop_map(|transaction_id| Command::CloseStream { transaction_id }),
        any::<bool>().prop_map(|flag| Command::ReceiveAudio { flag }),
        any::<bool>().prop_map(|flag| Command::ReceiveVideo { flag }),
        (num(), text(), publish_type).prop_map(|(transaction_id, stream_name, publish_type)| {
            Command::Publish(Publish {
                transaction_id,
                stream_name,
                publish_type,
            })
        }),
        (num(), num()).prop_map(|(transaction_id, millis)| Command::Seek {
            transaction_id,
            millis
        }),
        (num(), any::<bool>(), num()).prop_map(|(transaction_id, pause, millis)| {
            Command::Pause {
                transaction_id,
                pause,
                millis,
            }
        }),
        (prop::sample::select(named), num(), text()).prop_map(|(make, t, s)| make(t, s)),
        arb_status_info().prop_map(Command::OnFcPublish),
        arb_status_info().prop_map(Command::OnFcUnpublish),
        (num(), prop::option::of(num())).prop_map(|(transaction_id, bandwidth)| {
            Command::OnBwDone {
                transaction_id,
                bandwidth,
            }
        }),
        num().prop_map(|transaction_id| Command::CheckBw { transaction_id }),
        ("u_[a-zA-Z]{0,8}", num(), arb_value(), values()).prop_map(
            |(name, transaction_id, command_object, args)| Command::Unknown {
                name,
                transaction_id,
                command_object,
                args
            }
        ),
    ]
}

/// Every variant [`DataMessage::decode`] produces.
pub(crate) fn arb_data_message() -> impl Strategy<Value = DataMessage> {
    prop_oneof![
        (text(), arb_value()).prop_map(|(name, value)| DataMessage::SetDataFrame { name, value }),
        text().prop_map(|name| DataMessage::ClearDataFrame { name }),
        arb_value().prop_map(DataMessage::OnMetaData),
        ("u_[a-zA-Z|]{0,8}", values())
            .prop_map(|(handler, values)| DataMessage::Other { handler, values }),
    ]
}
