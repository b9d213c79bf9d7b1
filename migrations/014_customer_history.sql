-- Nothing a person did to a customer is lost when the customer goes away:
-- a merge moves the merged customer's owner history to the kept customer,
-- re-matching keeps a customer from mail that a person has edited, and a
-- customer from mail that re-matching does remove leaves its record here.

-- The customer an owner change was first recorded on, when a merge moved
-- it to the customer that row now belongs to (NULL: recorded on it).
ALTER TABLE owner_changes ADD COLUMN merged_from bigint;

-- When and by whom ("api:<token>", "cli:<user>", "import line 4", a
-- merge's merged_by) the record was last written by a person rather than
-- by the mail pipeline. NULL: only the pipeline ever wrote it (a
-- customer created from mail nobody has touched), which re-matching may
-- remove once it has no mail left.
ALTER TABLE customers ADD COLUMN edited_at timestamptz, ADD COLUMN edited_by text;

-- Before this version nothing recorded it. Customers that were not created
-- from mail were created by a person. Of those created from mail, one with
-- an owner change was moved by a person, and one with a grade, phone or
-- country was edited by a person or a merge: creation from mail sets none.
UPDATE customers c SET edited_at = o.changed_at, edited_by = o.via || ':' || o.actor
FROM (SELECT DISTINCT ON (customer_id) customer_id, changed_at, via, actor
      FROM owner_changes ORDER BY customer_id, changed_at DESC, id DESC) o
WHERE o.customer_id = c.id;
UPDATE customers SET edited_at = updated_at, edited_by = ''
WHERE edited_at IS NULL AND (NOT auto_created OR grade IS NOT NULL OR phone <> '' OR country <> '');

-- One row per customer that re-matching removed (created from mail, no
-- mail left, never edited by a person): the record as it was, in the
-- shape of a merge's merged_customer, so that a person can see it and,
-- if need be, create it again. Never updated or deleted.
CREATE TABLE customer_removals (
    id          bigserial PRIMARY KEY,
    customer_id bigint NOT NULL, -- no longer in customers
    reason      text NOT NULL,
    removed_at  timestamptz NOT NULL DEFAULT now(),
    customer    jsonb NOT NULL
);
CREATE INDEX customer_removals_customer ON customer_removals (customer_id);
