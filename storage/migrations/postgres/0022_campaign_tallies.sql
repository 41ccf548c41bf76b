-- A campaign's figures (supporters, accounts and reach by network) were counted from its
-- pledges on every pledge page, every pledge and every /status: a read of every pledge of
-- the campaign. They are now kept as tallies that triggers move in the same transaction
-- as the pledge or account row that changes them, so they are still derived from the
-- rows, never drift, and cost one row to read.
--
-- campaign_people: one row per person with a standing (not withdrawn) pledge, counting
-- them; campaign_tallies.supporters counts those rows. campaign_network_tallies: standing
-- pledges and the sum of their accounts' followers, by network. Every trigger moves a
-- tally by the exact difference its own rows make (no count of other rows), so the
-- order in which a statement's row triggers fire does not matter. Inserts and deletes are
-- tallied once per statement, from its transition table: a row updated many times in one
-- transaction leaves as many versions of itself, each update walking past the earlier
-- ones, so one tally update per pledge made a bulk insert of 100,000 take minutes.
-- Posts and failures are
-- not tallied (the blast would move a tally row per post): they are counted through the
-- partial index pledges_outcome, which holds only posted and failed pledges.

-- no writer of the older code may slip a pledge between the counts below and the triggers
LOCK TABLE pledges, accounts IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE campaign_tallies (
    campaign_id BIGINT PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    supporters BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE campaign_network_tallies (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    network TEXT NOT NULL,
    accounts BIGINT NOT NULL DEFAULT 0,
    reach BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, network)
);

CREATE TABLE campaign_people (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    supporter_platform TEXT NOT NULL,
    supporter_id TEXT NOT NULL,
    standing INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, supporter_platform, supporter_id)
);

CREATE INDEX pledges_outcome ON pledges (campaign_id, status)
WHERE status IN ('posted', 'failed');

-- what the rows say now, before any trigger exists
INSERT INTO campaign_network_tallies (campaign_id, network, accounts, reach)
SELECT p.campaign_id, p.network, COUNT(*), COALESCE(SUM(a.followers), 0)
FROM pledges AS p JOIN accounts AS a ON a.id = p.account_id
WHERE p.status <> 'withdrawn'
GROUP BY p.campaign_id, p.network;

INSERT INTO campaign_people (campaign_id, supporter_platform, supporter_id, standing)
SELECT campaign_id, supporter_platform, supporter_id, COUNT(*)
FROM pledges WHERE status <> 'withdrawn'
GROUP BY campaign_id, supporter_platform, supporter_id;

INSERT INTO campaign_tallies (campaign_id, supporters)
SELECT c.id, (SELECT COUNT(*) FROM campaign_people AS p WHERE p.campaign_id = c.id)
FROM campaigns AS c;

-- people start or stop standing: once per statement, however many
CREATE FUNCTION chorus_people_joined() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO campaign_tallies AS t (campaign_id, supporters)
    SELECT campaign_id, COUNT(*) FROM joined GROUP BY campaign_id ORDER BY campaign_id
    ON CONFLICT (campaign_id) DO UPDATE SET supporters = t.supporters + excluded.supporters;
    RETURN NULL;
END;
$$;

CREATE FUNCTION chorus_people_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE campaign_tallies AS t SET supporters = t.supporters - g.people
    FROM (SELECT campaign_id, COUNT(*) AS people FROM gone GROUP BY campaign_id) AS g
    WHERE t.campaign_id = g.campaign_id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER campaign_people_in AFTER INSERT ON campaign_people
REFERENCING NEW TABLE AS joined FOR EACH STATEMENT EXECUTE FUNCTION chorus_people_joined();
CREATE TRIGGER campaign_people_out AFTER DELETE ON campaign_people
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION chorus_people_gone();

-- one standing pledge's part: in (+1) or out (-1). FOR SHARE: a concurrent change of the
-- account's followers waits for this transaction, then sees its pledge (or this one reads
-- the changed count), so the reach cannot miss a change in between.
CREATE FUNCTION chorus_pledge_part(p pledges, sign INTEGER) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    reached BIGINT;
BEGIN
    SELECT followers INTO reached FROM accounts WHERE id = p.account_id FOR SHARE;
    reached := COALESCE(reached, 0);
    IF sign > 0 THEN
        INSERT INTO campaign_network_tallies AS t (campaign_id, network, accounts, reach)
        VALUES (p.campaign_id, p.network, 1, reached)
        ON CONFLICT (campaign_id, network) DO UPDATE
        SET accounts = t.accounts + 1, reach = t.reach + excluded.reach;
        INSERT INTO campaign_people AS c (campaign_id, supporter_platform, supporter_id, standing)
        VALUES (p.campaign_id, p.supporter_platform, p.supporter_id, 1)
        ON CONFLICT (campaign_id, supporter_platform, supporter_id) DO UPDATE
        SET standing = c.standing + 1;
    ELSE
        UPDATE campaign_network_tallies
        SET accounts = accounts - 1, reach = reach - reached
        WHERE campaign_id = p.campaign_id AND network = p.network;
        UPDATE campaign_people SET standing = standing - 1
        WHERE campaign_id = p.campaign_id AND supporter_platform = p.supporter_platform
        AND supporter_id = p.supporter_id;
        DELETE FROM campaign_people
        WHERE campaign_id = p.campaign_id AND supporter_platform = p.supporter_platform
        AND supporter_id = p.supporter_id AND standing <= 0;
    END IF;
END;
$$;

CREATE FUNCTION chorus_pledges_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'withdrawn' THEN
        PERFORM chorus_pledge_part(OLD, -1);
    END IF;
    IF NEW.status <> 'withdrawn' THEN
        PERFORM chorus_pledge_part(NEW, 1);
    END IF;
    RETURN NULL;
END;
$$;

-- pledges come in, or go: the tallies move once per statement, from its transition table.
-- The accounts are read FOR SHARE first, as above, and in id order (no deadlock between
-- two such statements).
CREATE FUNCTION chorus_pledges_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM accounts
    WHERE id IN (SELECT account_id FROM added WHERE status <> 'withdrawn')
    ORDER BY id FOR SHARE;
    INSERT INTO campaign_network_tallies AS t (campaign_id, network, accounts, reach)
    SELECT n.campaign_id, n.network, COUNT(*), COALESCE(SUM(a.followers), 0)
    FROM added AS n JOIN accounts AS a ON a.id = n.account_id
    WHERE n.status <> 'withdrawn'
    GROUP BY n.campaign_id, n.network
    ORDER BY n.campaign_id, n.network
    ON CONFLICT (campaign_id, network) DO UPDATE
    SET accounts = t.accounts + excluded.accounts, reach = t.reach + excluded.reach;
    INSERT INTO campaign_people AS c (campaign_id, supporter_platform, supporter_id, standing)
    SELECT campaign_id, supporter_platform, supporter_id, COUNT(*)
    FROM added WHERE status <> 'withdrawn'
    GROUP BY campaign_id, supporter_platform, supporter_id
    ORDER BY campaign_id, supporter_platform, supporter_id
    ON CONFLICT (campaign_id, supporter_platform, supporter_id) DO UPDATE
    SET standing = c.standing + excluded.standing;
    RETURN NULL;
END;
$$;

CREATE FUNCTION chorus_pledges_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM accounts
    WHERE id IN (SELECT account_id FROM removed WHERE status <> 'withdrawn')
    ORDER BY id FOR SHARE;
    UPDATE campaign_network_tallies AS t
    SET accounts = t.accounts - g.accounts, reach = t.reach - g.reach
    FROM (
        SELECT r.campaign_id, r.network, COUNT(*) AS accounts,
               COALESCE(SUM(a.followers), 0) AS reach
        FROM removed AS r JOIN accounts AS a ON a.id = r.account_id
        WHERE r.status <> 'withdrawn'
        GROUP BY r.campaign_id, r.network
    ) AS g
    WHERE t.campaign_id = g.campaign_id AND t.network = g.network;
    UPDATE campaign_people AS c SET standing = c.standing - g.standing
    FROM (
        SELECT campaign_id, supporter_platform, supporter_id, COUNT(*) AS standing
        FROM removed WHERE status <> 'withdrawn'
        GROUP BY campaign_id, supporter_platform, supporter_id
    ) AS g
    WHERE c.campaign_id = g.campaign_id AND c.supporter_platform = g.supporter_platform
    AND c.supporter_id = g.supporter_id;
    DELETE FROM campaign_people AS c
    USING (SELECT DISTINCT campaign_id, supporter_platform, supporter_id FROM removed) AS g
    WHERE c.campaign_id = g.campaign_id AND c.supporter_platform = g.supporter_platform
    AND c.supporter_id = g.supporter_id AND c.standing <= 0;
    RETURN NULL;
END;
$$;

CREATE TRIGGER pledges_tally_insert AFTER INSERT ON pledges
REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION chorus_pledges_added();
CREATE TRIGGER pledges_tally_delete AFTER DELETE ON pledges
REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION chorus_pledges_removed();
-- withdrawn, standing again, or counting for something else: the old part out, the new
-- in (a post or a failure changes nothing here, so the blast fires nothing)
CREATE TRIGGER pledges_tally_update AFTER UPDATE ON pledges
FOR EACH ROW WHEN (
    (OLD.status <> 'withdrawn' OR NEW.status <> 'withdrawn') AND (
        (OLD.status = 'withdrawn') <> (NEW.status = 'withdrawn')
        OR OLD.campaign_id <> NEW.campaign_id OR OLD.network <> NEW.network
        OR OLD.account_id <> NEW.account_id
        OR OLD.supporter_platform <> NEW.supporter_platform
        OR OLD.supporter_id <> NEW.supporter_id
    )
) EXECUTE FUNCTION chorus_pledges_tally();

-- an account's follower count moves the reach of every campaign it stands in
CREATE FUNCTION chorus_followers_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE campaign_network_tallies AS t SET reach = t.reach + NEW.followers - OLD.followers
    FROM pledges AS p
    WHERE p.account_id = NEW.id AND p.status <> 'withdrawn'
    AND t.campaign_id = p.campaign_id AND t.network = p.network;
    RETURN NULL;
END;
$$;

CREATE TRIGGER accounts_tally_followers AFTER UPDATE OF followers ON accounts
FOR EACH ROW WHEN (OLD.followers <> NEW.followers) EXECUTE FUNCTION chorus_followers_tally();
