"""Single sign-on through OpenID Connect providers (IOP_OIDC_PROVIDERS), beside the embedded e-mail and password login.

Contract:
- Web login is the Authorization Code flow with PKCE (S256), Authlib as the client: `flow.start` stores a single-use
  login (state digest, nonce, verifier) and binds its state to the browser in a cookie; `flow.finish` refuses a state
  that is missing, not this browser's, used or expired, exchanges the code (a replayed code is the provider's refusal),
  and accepts the ID token only signed by a key of the provider's JWKS with an asymmetric algorithm it announces (never
  `none`, never HMAC), with `iss` the configured issuer, `aud` the client, `exp`/`iat` in time and the login's `nonce`.
- Who the person is (`accounts.resolve`): found again by (provider, sub). Staff providers map the configured claims to a
  role and department (the first configured group the person carries wins) and create the account on first login;
  no mapped group is no access. Organisation providers admit only a person with an open invitation for the verified
  e-mail (service.organisations.invitations), which the first login accepts. Nobody else gets an account.
- Every login, accepted or refused, is an audit event on the stream `oidc:<provider>` with ids and a reason code
  only (no e-mail, name or subject). A refused login leaves no session and no account.
- A web session started here carries its OidcSession id; the session ends at logout (then the browser is sent to the
  provider's end_session_endpoint with the ID token as hint), at the provider's back-channel logout, or when its
  absolute lifetime (session_hours) is up. Deactivating the account ends it at its next request, as for passwords.
- The API also takes bearer access tokens of providers with `api_audience` (`bearer`): JWKS-verified, audience
  checked; a client-credentials token's mapped role claim makes it a service account.
- Logins started are limited per client address (service.web.routes.sso.get_start_limiter), before anything is stored.
- The provider's discovery document and JWKS are fetched over HTTP with a timeout and cached (`provider`); an unknown
  signing key refetches the JWKS (key rotation).
"""
