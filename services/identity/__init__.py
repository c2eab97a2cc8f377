"""Identity: access-token (and DPoP proof) validation into a ``Principal``; framework-free.

Entry point: ``services.identity.authenticate.Authenticator``.
"""
