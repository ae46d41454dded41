//! GELF over UDP: the devices' own business events.
