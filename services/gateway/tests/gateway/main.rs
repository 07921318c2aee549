//! The gateway over real HTTP, in front of a real upstream server.

mod routing;
mod support;
mod trusts;
