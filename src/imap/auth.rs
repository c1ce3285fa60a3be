//! Logging in: a mailbox's own password, Dovecot's `user*master` LOGIN, or
//! SASL PLAIN with the mailbox as authorization identity.

use async_imap::Authenticator;

/// SASL PLAIN: `authzid NUL authcid NUL password`, sent in one step.
pub struct Plain<'a> {
    pub authzid: &'a str,
    pub authcid: &'a str,
    pub password: &'a str,
}

impl Authenticator for Plain<'_> {
    type Response = Vec<u8>;

    fn process(&mut self, _challenge: &[u8]) -> Self::Response {
        let mut out =
            Vec::with_capacity(self.authzid.len() + self.authcid.len() + self.password.len() + 2);
        out.extend_from_slice(self.authzid.as_bytes());
        out.push(0);
        out.extend_from_slice(self.authcid.as_bytes());
        out.push(0);
        out.extend_from_slice(self.password.as_bytes());
        out
    }
}
