//! Tests of the message module.
#[test]
fn sizes() {
    eprintln!(
        "Message {} Command {} Value {} DataMessage {} SO {} StatusInfo {}",
        size_of::<super::Message>(),
        size_of::<crate::command::Command>(),
        size_of::<crate::amf0::Value>(),
        size_of::<crate::command::DataMessage>(),
        size_of::<super::SharedObjectMessage>(),
        size_of::<crate::command::StatusInfo>()
    );
}
