"""``ggzy agent``: the local certificate agent, a small HTTP service on 127.0.0.1 that lets the
platform's pages sign, agree keys and decrypt with a private key kept in a USB key or HSM (PKCS#11).

`token` talks PKCS#11, `confirm` asks the user about each operation, `server` answers the pages
(allowed origins only), `cli` is the command. See ``docs/agent.md``.
"""
