//! The rtnetlink socket for request/dump exchanges, the message types, and how a payload is
//! parsed as a neli header.

use std::fmt::{Debug, Display};
use std::io::Cursor;

use neli::consts::nl::NlmF;
use neli::consts::socket::NlFamily;
use neli::err::SocketError;
use neli::nl::{NlPayload, NlmsghdrBuilder};
use neli::socket::synchronous::NlSocketHandle;
use neli::types::Buffer;
use neli::utils::Groups;
use neli::{FromBytesWithInput, Size, ToBytes};

use crate::error::{Error, Result};

// Message types (linux/netlink.h, rtnetlink.h).
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
pub(super) const RTM_NEWLINK: u16 = 16;
pub(super) const RTM_DELLINK: u16 = 17;
pub(super) const RTM_GETLINK: u16 = 18;
pub(super) const RTM_NEWADDR: u16 = 20;
pub(super) const RTM_DELADDR: u16 = 21;
pub(super) const RTM_GETADDR: u16 = 22;
pub(super) const RTM_NEWROUTE: u16 = 24;
pub(super) const RTM_DELROUTE: u16 = 25;
pub(super) const RTM_GETROUTE: u16 = 26;
pub(super) const RTM_NEWNEIGH: u16 = 28;
pub(super) const RTM_DELNEIGH: u16 = 29;
pub(super) const RTM_GETNEIGH: u16 = 30;
pub(super) const RTM_NEWNEXTHOP: u16 = 104;
pub(super) const RTM_DELNEXTHOP: u16 = 105;
pub(super) const RTM_GETNEXTHOP: u16 = 106;

/// An rtnetlink socket for request/dump exchanges, one at a time.
pub(super) struct Rtnl {
    socket: NlSocketHandle,
    seq: u32,
}

impl Rtnl {
    /// A socket that joins no group.
    pub(super) fn connect() -> Result<Rtnl> {
        let socket = NlSocketHandle::connect(NlFamily::Route, None, Groups::empty())
            .map_err(netlink_error)?;
        Ok(Rtnl { socket, seq: 0 })
    }

    /// Sends the dump request `request_type` and hands every reply that parses as `P` to `each`.
    pub(super) fn dump<R, P>(
        &mut self,
        request_type: u16,
        request: R,
        what: &str,
        mut each: impl FnMut(P),
    ) -> Result<()>
    where
        R: Size + ToBytes + Debug,
        P: FromBytesWithInput<Input = usize>,
    {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let message = NlmsghdrBuilder::default()
            .nl_type(request_type)
            .nl_flags(NlmF::REQUEST | NlmF::DUMP)
            .nl_seq(seq)
            .nl_payload(NlPayload::Payload(request))
            .build()
            .map_err(netlink_error)?;
        self.socket
            .send(&message)
            .map_err(|e| Error::Netlink(format!("dumping {what}: {e}")))?;
        // RTM_GETx is RTM_NEWx + 2 for every rtnetlink object.
        let reply_type = request_type - 2;
        loop {
            let (messages, _) = match self.socket.recv::<u16, Buffer>() {
                Ok(received) => received,
                Err(e) if is_interrupted(&e) => continue,
                Err(e) => return Err(Error::Netlink(format!("dumping {what}: {e}"))),
            };
            for message in messages {
                let message =
                    message.map_err(|e| Error::Netlink(format!("dumping {what}: {e}")))?;
                if *message.nl_seq() != seq {
                    continue; // a late reply to an earlier request
                }
                match (*message.nl_type(), message.nl_payload()) {
                    (NLMSG_DONE, NlPayload::DumpExtAck(ack)) if *ack.error() != 0 => {
                        return Err(Error::Netlink(format!("dumping {what}: {ack}")));
                    }
                    (NLMSG_DONE, _) => return Ok(()),
                    (NLMSG_ERROR, NlPayload::Err(e)) => {
                        return Err(Error::Netlink(format!("dumping {what}: {e}")));
                    }
                    (NLMSG_ERROR, _) => return Ok(()),
                    (kind, NlPayload::Payload(payload)) if kind == reply_type => {
                        if let Some(parsed) = parse::<P>(payload.as_ref()) {
                            each(parsed);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// A receive that a signal interrupted, to retry.
pub(super) fn is_interrupted(e: &SocketError) -> bool {
    matches!(e, SocketError::Io(io) if io.kind() == std::io::ErrorKind::Interrupted)
}

/// Parses a message payload as the neli header type `P`; `None` when it does not parse.
pub(super) fn parse<P: FromBytesWithInput<Input = usize>>(payload: &[u8]) -> Option<P> {
    P::from_bytes_with_input(&mut Cursor::new(payload), payload.len()).ok()
}

/// A neli error as this crate's.
pub(super) fn netlink_error(e: impl Display) -> Error {
    Error::Netlink(e.to_string())
}
