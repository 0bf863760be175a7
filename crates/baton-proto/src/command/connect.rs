//! The NetConnection `connect` command (RTMP 1.0 section 7.2.1.1), with the
//! properties added since: RTMP Go Away's `supportsGoAway`, and Enhanced RTMP
//! v2's `capsEx`, `fourCcList`, `videoFourCcInfoMap` and `audioFourCcInfoMap`
//! ("Enhancing NetConnection connect Command").

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

use super::ObjectEncoding;
use super::value::{as_bool, as_number, as_str, into_string};
use crate::amf::amf0::{Properties, Value};

/// Property names of the connect command object.
pub mod property {
    /// The server application the client connects to.
    pub const APP: &str = "app";
    /// The client's Flash Player (or encoder) version.
    pub const FLASH_VER: &str = "flashVer";
    /// URL of the SWF file that made the connection.
    pub const SWF_URL: &str = "swfUrl";
    /// URL of the server: `rtmp://host:port/app[/instance]`.
    pub const TC_URL: &str = "tcUrl";
    /// True when a proxy is used.
    pub const FPAD: &str = "fpad";
    /// The audio codecs the client supports (a bit mask).
    pub const AUDIO_CODECS: &str = "audioCodecs";
    /// The video codecs the client supports (a bit mask).
    pub const VIDEO_CODECS: &str = "videoCodecs";
    /// The special video functions the client supports.
    pub const VIDEO_FUNCTION: &str = "videoFunction";
    /// URL of the web page the SWF file was loaded from.
    pub const PAGE_URL: &str = "pageUrl";
    /// AMF encoding: 0 (AMF0) or 3 (AMF0 and AMF3).
    pub const OBJECT_ENCODING: &str = "objectEncoding";
    /// RTMP Go Away support.
    pub const SUPPORTS_GO_AWAY: &str = "supportsGoAway";
    /// Enhanced RTMP extended capabilities.
    pub const CAPS_EX: &str = "capsEx";
    /// Enhanced RTMP supported FourCCs.
    pub const FOUR_CC_LIST: &str = "fourCcList";
    /// Enhanced RTMP per-FourCC video capabilities.
    pub const VIDEO_FOUR_CC_INFO_MAP: &str = "videoFourCcInfoMap";
    /// Enhanced RTMP per-FourCC audio capabilities.
    pub const AUDIO_FOUR_CC_INFO_MAP: &str = "audioFourCcInfoMap";
}

macro_rules! bit_mask {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $flag:ident = $bit:expr,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $name(pub u32);

        impl $name {
            /// No flag set.
            pub const NONE: $name = $name(0);
            $( $(#[$fdoc])* pub const $flag: $name = $name($bit); )*

            /// Whether every flag of `other` is set in `self`.
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }

            /// Whether no flag is set.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// The raw bits.
            pub const fn bits(self) -> u32 {
                self.0
            }
        }

        impl BitOr for $name {
            type Output = $name;
            fn bitor(self, rhs: $name) -> $name {
                $name(self.0 | rhs.0)
            }
        }

        impl BitOrAssign for $name {
            fn bitor_assign(&mut self, rhs: $name) {
                self.0 |= rhs.0;
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:#x}", self.0)
            }
        }
    };
}

bit_mask! {
    /// Enhanced RTMP `capsEx` (enum CapsExMask): the extended capabilities a
    /// client announces in `connect` and a server in its `_result`.
    CapsEx {
        /// Support for the Reconnect Request onStatus.
        RECONNECT = 0x01,
        /// Support for multitrack audio and video.
        MULTITRACK = 0x02,
        /// Can parse the ModEx signal.
        MODEX = 0x04,
        /// Support for the nanosecond timestamp offset.
        TIMESTAMP_NANO_OFFSET = 0x08,
    }
}

bit_mask! {
    /// Enhanced RTMP enum FourCcInfoMask: what a peer can do with one codec
    /// of `videoFourCcInfoMap` / `audioFourCcInfoMap`.
    FourCcInfo {
        /// Can decode the codec.
        CAN_DECODE = 0x01,
        /// Can encode the codec.
        CAN_ENCODE = 0x02,
        /// Can forward the codec.
        CAN_FORWARD = 0x04,
    }
}

/// A `connect` command (client to server).
///
/// Every property of the command object that has a field here is read into
/// it; the others, and a known property whose value has an unexpected type,
/// stay in [`Connect::other`] in wire order, so nothing is lost.
#[derive(Clone, Debug, PartialEq)]
pub struct Connect {
    /// Transaction ID (the spec says always 1).
    pub transaction_id: f64,
    /// `app`: the server application name.
    pub app: String,
    /// `flashVer`, such as `FMLE/3.0 (compatible; FMSc/1.0)`.
    pub flash_ver: Option<String>,
    /// `swfUrl`.
    pub swf_url: Option<String>,
    /// `tcUrl`: the URL the client connected to.
    pub tc_url: Option<String>,
    /// `fpad`: true when a proxy is used.
    pub fpad: Option<bool>,
    /// `audioCodecs` bit mask.
    pub audio_codecs: Option<f64>,
    /// `videoCodecs` bit mask.
    pub video_codecs: Option<f64>,
    /// `videoFunction` bit mask.
    pub video_function: Option<f64>,
    /// `pageUrl`.
    pub page_url: Option<String>,
    /// `objectEncoding`: 0 (the default when absent) is AMF0, 3 is AMF3.
    pub object_encoding: ObjectEncoding,
    /// `supportsGoAway`: true iff the property is AMF0 boolean true or the
    /// number 1 (the README's form); anything else means no support.
    pub supports_go_away: bool,
    /// `capsEx` (empty when absent).
    pub caps_ex: CapsEx,
    /// `fourCcList`: the FourCCs the client supports (`*` for any).
    pub four_cc_list: Option<Vec<String>>,
    /// `videoFourCcInfoMap`: FourCC to capability mask, in wire order.
    pub video_four_cc_info_map: Option<Vec<(String, FourCcInfo)>>,
    /// `audioFourCcInfoMap`: FourCC to capability mask, in wire order.
    pub audio_four_cc_info_map: Option<Vec<(String, FourCcInfo)>>,
    /// Every other property of the command object (such as `type`,
    /// `capabilities`), in wire order.
    pub other: Properties,
    /// Optional user arguments after the command object.
    pub args: Vec<Value>,
}

impl Connect {
    /// A connect to application `app` at `tc_url`, with transaction ID 1 and
    /// nothing else set.
    pub fn new(app: impl Into<String>, tc_url: impl Into<String>) -> Self {
        Connect {
            transaction_id: 1.0,
            app: app.into(),
            flash_ver: None,
            swf_url: None,
            tc_url: Some(tc_url.into()),
            fpad: None,
            audio_codecs: None,
            video_codecs: None,
            video_function: None,
            page_url: None,
            object_encoding: ObjectEncoding::Amf0,
            supports_go_away: false,
            caps_ex: CapsEx::NONE,
            four_cc_list: None,
            video_four_cc_info_map: None,
            audio_four_cc_info_map: None,
            other: Vec::new(),
            args: Vec::new(),
        }
    }

    /// Sets `flashVer`.
    #[must_use]
    pub fn with_flash_ver(mut self, flash_ver: impl Into<String>) -> Self {
        self.flash_ver = Some(flash_ver.into());
        self
    }

    /// Sets `swfUrl`.
    #[must_use]
    pub fn with_swf_url(mut self, swf_url: impl Into<String>) -> Self {
        self.swf_url = Some(swf_url.into());
        self
    }

    /// Sets `pageUrl`.
    #[must_use]
    pub fn with_page_url(mut self, page_url: impl Into<String>) -> Self {
        self.page_url = Some(page_url.into());
        self
    }

    /// Sets `fpad`.
    #[must_use]
    pub fn with_fpad(mut self, fpad: bool) -> Self {
        self.fpad = Some(fpad);
        self
    }

    /// Sets `audioCodecs`, `videoCodecs` and `videoFunction`.
    #[must_use]
    pub fn with_codecs(
        mut self,
        audio_codecs: f64,
        video_codecs: f64,
        video_function: f64,
    ) -> Self {
        self.audio_codecs = Some(audio_codecs);
        self.video_codecs = Some(video_codecs);
        self.video_function = Some(video_function);
        self
    }

    /// Sets `objectEncoding`.
    #[must_use]
    pub fn with_object_encoding(mut self, encoding: ObjectEncoding) -> Self {
        self.object_encoding = encoding;
        self
    }

    /// Announces (or not) RTMP Go Away support.
    #[must_use]
    pub fn with_supports_go_away(mut self, supports: bool) -> Self {
        self.supports_go_away = supports;
        self
    }

    /// Sets `capsEx`.
    #[must_use]
    pub fn with_caps_ex(mut self, caps_ex: CapsEx) -> Self {
        self.caps_ex = caps_ex;
        self
    }

    /// Sets `fourCcList`.
    #[must_use]
    pub fn with_four_cc_list<S: Into<String>>(mut self, list: impl IntoIterator<Item = S>) -> Self {
        self.four_cc_list = Some(list.into_iter().map(Into::into).collect());
        self
    }

    /// Sets `videoFourCcInfoMap`.
    #[must_use]
    pub fn with_video_four_cc_info_map<S: Into<String>>(
        mut self,
        map: impl IntoIterator<Item = (S, FourCcInfo)>,
    ) -> Self {
        self.video_four_cc_info_map = Some(map.into_iter().map(|(k, v)| (k.into(), v)).collect());
        self
    }

    /// Sets `audioFourCcInfoMap`.
    #[must_use]
    pub fn with_audio_four_cc_info_map<S: Into<String>>(
        mut self,
        map: impl IntoIterator<Item = (S, FourCcInfo)>,
    ) -> Self {
        self.audio_four_cc_info_map = Some(map.into_iter().map(|(k, v)| (k.into(), v)).collect());
        self
    }

    /// Adds a property that has no field of its own (such as `type`).
    #[must_use]
    pub fn with_property(mut self, name: impl Into<String>, value: Value) -> Self {
        self.other.push((name.into(), value));
        self
    }

    /// Adds an optional user argument after the command object.
    #[must_use]
    pub fn with_arg(mut self, arg: Value) -> Self {
        self.args.push(arg);
        self
    }

    /// The command object: the typed properties (those that are set), then
    /// [`Connect::other`]. `objectEncoding` is written only for AMF3,
    /// `supportsGoAway` (as boolean true) only when set, `capsEx` only when
    /// not empty.
    pub fn to_command_object(&self) -> Value {
        let mut p: Properties = Vec::with_capacity(16 + self.other.len());
        let mut put = |k: &str, v: Value| p.push((k.to_owned(), v));
        put(property::APP, Value::string(&self.app));
        let strings = [
            (property::FLASH_VER, &self.flash_ver),
            (property::SWF_URL, &self.swf_url),
            (property::TC_URL, &self.tc_url),
        ];
        for (k, v) in strings {
            if let Some(v) = v {
                put(k, Value::string(v));
            }
        }
        if let Some(fpad) = self.fpad {
            put(property::FPAD, Value::Boolean(fpad));
        }
        let numbers = [
            (property::AUDIO_CODECS, self.audio_codecs),
            (property::VIDEO_CODECS, self.video_codecs),
            (property::VIDEO_FUNCTION, self.video_function),
        ];
        for (k, v) in numbers {
            if let Some(v) = v {
                put(k, Value::Number(v));
            }
        }
        if let Some(page_url) = &self.page_url {
            put(property::PAGE_URL, Value::string(page_url));
        }
        if self.object_encoding == ObjectEncoding::Amf3 {
            put(
                property::OBJECT_ENCODING,
                Value::Number(self.object_encoding.as_number()),
            );
        }
        if self.supports_go_away {
            put(property::SUPPORTS_GO_AWAY, Value::Boolean(true));
        }
        if !self.caps_ex.is_empty() {
            put(property::CAPS_EX, Value::Number(f64::from(self.caps_ex.0)));
        }
        if let Some(list) = &self.four_cc_list {
            put(
                property::FOUR_CC_LIST,
                Value::StrictArray(list.iter().map(Value::string).collect()),
            );
        }
        let maps = [
            (
                property::VIDEO_FOUR_CC_INFO_MAP,
                &self.video_four_cc_info_map,
            ),
            (
                property::AUDIO_FOUR_CC_INFO_MAP,
                &self.audio_four_cc_info_map,
            ),
        ];
        for (k, map) in maps {
            if let Some(map) = map {
                put(k, four_cc_map_value(map));
            }
        }
        p.extend(self.other.iter().cloned());
        Value::Object(p)
    }

    /// Reads a connect command from its transaction ID, command object and
    /// user arguments. Fails only when `app` is missing or not a string.
    pub(crate) fn from_parts(
        transaction_id: f64,
        command_object: Properties,
        args: Vec<Value>,
    ) -> Result<Connect, &'static str> {
        let mut app = None;
        let mut encoding = None;
        let mut c = Connect::new("", "");
        c.tc_url = None;
        c.transaction_id = transaction_id;
        c.args = args;
        for (name, value) in command_object {
            let value = match name.as_str() {
                property::APP if app.is_none() => match into_string(value) {
                    Ok(s) => {
                        app = Some(s);
                        continue;
                    }
                    Err(_) => return Err("app is not a string"),
                },
                property::FLASH_VER => take_string(&mut c.flash_ver, value),
                property::SWF_URL => take_string(&mut c.swf_url, value),
                property::TC_URL => take_string(&mut c.tc_url, value),
                property::PAGE_URL => take_string(&mut c.page_url, value),
                property::FPAD => take(&mut c.fpad, value, as_bool),
                property::AUDIO_CODECS => take(&mut c.audio_codecs, value, as_number),
                property::VIDEO_CODECS => take(&mut c.video_codecs, value, as_number),
                property::VIDEO_FUNCTION => take(&mut c.video_function, value, as_number),
                property::OBJECT_ENCODING => {
                    let rest = take(&mut encoding, value, |v| {
                        as_number(v).and_then(ObjectEncoding::from_number)
                    });
                    c.object_encoding = encoding.unwrap_or_default();
                    rest
                }
                property::SUPPORTS_GO_AWAY if !c.supports_go_away => {
                    if as_bool(&value) == Some(true) || as_number(&value) == Some(1.0) {
                        c.supports_go_away = true;
                        None
                    } else {
                        Some(value)
                    }
                }
                property::CAPS_EX if c.caps_ex.is_empty() => {
                    let mut caps = None;
                    let rest = take(&mut caps, value, |v| as_number(v).and_then(as_u32));
                    if let Some(caps) = caps {
                        c.caps_ex = CapsEx(caps);
                    }
                    rest
                }
                property::FOUR_CC_LIST => take(&mut c.four_cc_list, value, four_cc_list),
                property::VIDEO_FOUR_CC_INFO_MAP => {
                    take(&mut c.video_four_cc_info_map, value, four_cc_map)
                }
                property::AUDIO_FOUR_CC_INFO_MAP => {
                    take(&mut c.audio_four_cc_info_map, value, four_cc_map)
                }
                _ => Some(value),
            };
            if let Some(value) = value {
                c.other.push((name, value));
            }
        }
        c.app = app.ok_or("app is missing")?;
        Ok(c)
    }
}

/// Fills `slot` from `value` when it is empty and `read` accepts the value;
/// otherwise gives the value back (for [`Connect::other`]).
fn take<T>(
    slot: &mut Option<T>,
    value: Value,
    read: impl Fn(&Value) -> Option<T>,
) -> Option<Value> {
    if slot.is_some() {
        return Some(value);
    }
    match read(&value) {
        Some(v) => {
            *slot = Some(v);
            None
        }
        None => Some(value),
    }
}

fn take_string(slot: &mut Option<String>, value: Value) -> Option<Value> {
    take(slot, value, |v| as_str(v).map(str::to_owned))
}

/// A finite, whole number in `0..=u32::MAX`.
fn as_u32(n: f64) -> Option<u32> {
    if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) {
        Some(n as u32)
    } else {
        None
    }
}

/// A strict array of strings.
fn four_cc_list(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::StrictArray(items) => items.iter().map(|i| as_str(i).map(str::to_owned)).collect(),
        _ => None,
    }
}

/// An object of FourCC to whole-number masks.
fn four_cc_map(v: &Value) -> Option<Vec<(String, FourCcInfo)>> {
    v.properties()?
        .iter()
        .map(|(k, v)| Some((k.clone(), FourCcInfo(as_number(v).and_then(as_u32)?))))
        .collect()
}

fn four_cc_map_value(map: &[(String, FourCcInfo)]) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), Value::Number(f64::from(v.0))))
            .collect(),
    )
}

/// `capsEx` for a server's connect `_result` properties.
pub(crate) fn caps_ex_value(caps: CapsEx) -> Value {
    Value::Number(f64::from(caps.0))
}
