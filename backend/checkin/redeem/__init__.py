"""One scan, from the scanner's message to the recorded row (pretix's ``perform_checkin``).

- ``messages``: the redeem message in (``redeem_parse`` → ``Redeem``) and the result out
  (``RedeemResult.message()``), shared by the websocket, the HTTP fallback and the offline upload;
- ``decide``: the decision, one pure function (pass state + list rules + scan → reason or admitted,
  and what an admitted scan changes), no database;
- ``store``: the reads behind it (the locked pass, the event's window, the lists) and the writes
  after it, in SQL, with one writer per database (``store_sqlite``, ``store_postgres``).

``backend.checkin.services.scans.checkin_redeem`` runs these steps in one transaction.
"""
