-- Several daemons may share one database and split the mailboxes between
-- them: a daemon syncs a mailbox only while it holds its lease, renewed
-- at every turn of the mailbox's loop. A daemon that dies leaves a lease
-- that expires (lease_until), and another daemon takes the mailbox over.
ALTER TABLE mailboxes
    ADD COLUMN lease_owner text,
    ADD COLUMN lease_until timestamptz;
