//! Business event codes: the seed's CTRLD codes (ZTP0011I…ZTP0043E, [`crate::config::ConfigKind`])
//! for configurations, and Sonde's own in the same shape for what the DHCP and HTTP servers see.
//! The last letter is the severity: I informational (6), W warning (4), E error (3).

/// One event code with its GELF level and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub code: &'static str,
    pub level: u32,
    pub text: &'static str,
}

const fn info(code: &'static str, text: &'static str) -> Code {
    Code {
        code,
        level: 6,
        text,
    }
}
const fn warn(code: &'static str, text: &'static str) -> Code {
    Code {
        code,
        level: 4,
        text,
    }
}
const fn error(code: &'static str, text: &'static str) -> Code {
    Code {
        code,
        level: 3,
        text,
    }
}

// DHCP
pub const DHCP_OFFERED: Code = info("ZTP0101I", "dhcp address offered");
pub const DHCP_ACKED: Code = info("ZTP0102I", "dhcp address acknowledged");
pub const DHCP_NAKED: Code = warn("ZTP0103W", "dhcp request refused");
pub const DHCP_RELEASED: Code = info("ZTP0104I", "dhcp address released");
pub const DHCP_DECLINED: Code = warn("ZTP0105W", "dhcp address declined by the client");
pub const DHCP_INFORMED: Code = info("ZTP0106I", "dhcp inform answered");
pub const DHCP_EXHAUSTED: Code = error("ZTP0107E", "dhcp pool exhausted");
pub const DHCP_NO_SUBNET: Code = warn("ZTP0108W", "dhcp client on no configured subnet");
pub const DHCP_NOT_STORED: Code = error("ZTP0109E", "dhcp lease could not be stored");
pub const DHCP_IGNORED: Code = warn("ZTP0110W", "dhcp message ignored");

// HTTP
pub const HTTP_IMAGE_SERVED: Code = info("ZTP0201I", "ztp image served");
pub const HTTP_IMAGE_REDIRECTED: Code = info("ZTP0202I", "ztp image redirected");
pub const HTTP_IMAGE_MISSING: Code = warn("ZTP0203W", "ztp image not found");
pub const HTTP_SCRIPT_SERVED: Code = info("ZTP0204I", "ztp script served");
pub const HTTP_SCRIPT_MISSING: Code = warn("ZTP0205W", "ztp script not found");
pub const HTTP_WRONG_DEVICE: Code = error(
    "ZTP0206E",
    "ztp request refused: the serial belongs to another device",
);
pub const HTTP_REFUSED_PATH: Code = error(
    "ZTP0207E",
    "ztp request refused: path outside the served roots",
);
pub const HTTP_NOT_FOUND: Code = warn("ZTP0208W", "ztp file not found");
pub const HTTP_FILE_SERVED: Code = info("ZTP0209I", "ztp file served");
pub const HTTP_BAD_REQUEST: Code = warn("ZTP0210W", "ztp request malformed");
pub const HTTP_SCRIPT_INVALID: Code = error(
    "ZTP0211E",
    "ztp script refused: no # CUMULUS-AUTOPROVISIONING line",
);
pub const HTTP_SERVER_ERROR: Code = error("ZTP0212E", "ztp file could not be read");
