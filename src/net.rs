//! Facts about a request's connection that a server puts in its extensions, and the
//! request IDs of answers. Lowest layer of the HTTP side: the server loop and the gate
//! both import it.

use std::net::SocketAddr;

/// The TCP peer of a request (`aws:SourceIp`); the server inserts it in the extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// Whether the request came over TLS (`aws:SecureTransport`); absent means `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecureTransport(pub bool);

/// A fresh `x-amzn-RequestId` (a random UUID, from a userspace generator: no syscall).
pub fn request_id() -> String {
    uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .to_string()
}
