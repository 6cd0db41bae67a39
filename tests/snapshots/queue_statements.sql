-- CREATE_CURSOR
INSERT INTO "annotate_queuecursor" ("annotator_id", "target_id", "article_id", "position", "ranked_measure",
    "shuffle_key", "shuffle_sentence_id")
VALUES (%(annotator)s, %(target)s, 0, 0, '', 0, 0) ON CONFLICT ("annotator_id", "target_id") DO NOTHING

-- MOVE_CURSOR
UPDATE "annotate_queuecursor" SET
("article_id", "position") = (SELECT
    COALESCE("found"."article_id", "past"."article_id", "annotate_queuecursor"."article_id"),
    COALESCE("found"."position", "past"."position" + 1, "annotate_queuecursor"."position")
    FROM (SELECT 1 AS "one") "row"
    LEFT JOIN (SELECT "sentence"."article_id", "sentence"."position" FROM "annotate_sentence" "sentence"
        WHERE "sentence"."article_id" >= "annotate_queuecursor"."article_id"
    AND NOT ("sentence"."article_id" = "annotate_queuecursor"."article_id"
             AND "sentence"."position" < "annotate_queuecursor"."position") AND NOT EXISTS (SELECT 1 FROM "annotate_annotation" "mine" WHERE "mine"."sentence_id" = "sentence"."id"
        AND "mine"."target_id" = %(target)s AND "mine"."annotator_id" = %(annotator)s)
    AND COALESCE((SELECT CASE WHEN "tally"."votes" >= %(overlap)s AND "tally"."votes" < %(most)s AND "tally"."adjudicated" = ''
        AND ("tally"."pro" < "tally"."votes" AND "tally"."contra" < "tally"."votes" AND "tally"."neutral" < "tally"."votes"
        OR %(threshold)s > 0 AND EXISTS (SELECT 1 FROM "annotate_sentenceposterior" "post"
            WHERE "post"."target_id" = %(target)s AND "post"."sentence_id" = "tally"."sentence_id"
            AND +"post"."posterior" < %(threshold)s AND "post"."votes" = "tally"."votes")) THEN 1
        ELSE %(overlap)s - "tally"."votes" END
        FROM "annotate_sentencetally" "tally" WHERE "tally"."target_id" = %(target)s
        AND "tally"."sentence_id" = "sentence"."id"), %(overlap)s) > 0
    AND NOT EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev" WHERE "ev"."target_id" = %(target)s
        AND "ev"."sentence_id" = "sentence"."id")
        ORDER BY "sentence"."article_id", "sentence"."position" LIMIT 1) "found" ON TRUE
    LEFT JOIN (SELECT "last"."article_id", "last"."position" FROM "annotate_sentence" "last" ORDER BY "last"."article_id" DESC, "last"."position" DESC LIMIT 1) "past" ON TRUE)
WHERE "annotator_id" = %(annotator)s AND "target_id" = %(target)s
RETURNING "article_id", "position",
    (SELECT "live"."sentence_id" FROM "annotate_assignment" "live"
     WHERE "live"."annotator_id" = %(annotator)s AND "live"."target_id" = %(target)s
     AND "live"."expires_at" > %(now)s
     AND NOT EXISTS (SELECT 1 FROM "annotate_annotation" "labelled"
                     WHERE "labelled"."annotator_id" = %(annotator)s AND "labelled"."target_id" = %(target)s
                     AND "labelled"."sentence_id" = "live"."sentence_id")),
    COALESCE((SELECT "done"."labels" + "done"."skips" FROM "annotate_annotatortally" "done"
              WHERE "done"."annotator_id" = %(annotator)s AND "done"."target_id" = %(target)s), 0),
    EXISTS (SELECT 1 FROM "annotate_evaluationpause" "pause" WHERE "pause"."annotator_id" = %(annotator)s
            AND "pause"."target_id" = %(target)s AND "pause"."paused_at" IS NOT NULL),
    (SELECT "ret"."sentence_id" FROM "annotate_labelreturn" "ret"
     WHERE "ret"."annotator_id" = %(annotator)s AND "ret"."target_id" = %(target)s AND "ret"."resolved_at" IS NULL
     ORDER BY "ret"."created_at", "ret"."id" LIMIT 1),
    "ranked_version_id", "ranked_measure", "ranked_score", "ranked_sentence_id",
    "shuffle_key", "shuffle_sentence_id"

-- MOVE_SHUFFLE_CURSOR
UPDATE "annotate_queuecursor" SET
("shuffle_key", "shuffle_sentence_id") = (SELECT
    COALESCE("found"."shuffle_key", "past"."shuffle_key", "annotate_queuecursor"."shuffle_key"),
    COALESCE("found"."id", "past"."id" + 1, "annotate_queuecursor"."shuffle_sentence_id")
    FROM (SELECT 1 AS "one") "row"
    LEFT JOIN (SELECT "sentence"."shuffle_key", "sentence"."id" FROM "annotate_sentence" "sentence"
        WHERE "sentence"."shuffle_key" >= "annotate_queuecursor"."shuffle_key"
    AND NOT ("sentence"."shuffle_key" = "annotate_queuecursor"."shuffle_key"
             AND "sentence"."id" < "annotate_queuecursor"."shuffle_sentence_id") AND NOT EXISTS (SELECT 1 FROM "annotate_annotation" "mine" WHERE "mine"."sentence_id" = "sentence"."id"
        AND "mine"."target_id" = %(target)s AND "mine"."annotator_id" = %(annotator)s)
    AND COALESCE((SELECT CASE WHEN "tally"."votes" >= %(overlap)s AND "tally"."votes" < %(most)s AND "tally"."adjudicated" = ''
        AND ("tally"."pro" < "tally"."votes" AND "tally"."contra" < "tally"."votes" AND "tally"."neutral" < "tally"."votes"
        OR %(threshold)s > 0 AND EXISTS (SELECT 1 FROM "annotate_sentenceposterior" "post"
            WHERE "post"."target_id" = %(target)s AND "post"."sentence_id" = "tally"."sentence_id"
            AND +"post"."posterior" < %(threshold)s AND "post"."votes" = "tally"."votes")) THEN 1
        ELSE %(overlap)s - "tally"."votes" END
        FROM "annotate_sentencetally" "tally" WHERE "tally"."target_id" = %(target)s
        AND "tally"."sentence_id" = "sentence"."id"), %(overlap)s) > 0
    AND NOT EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev" WHERE "ev"."target_id" = %(target)s
        AND "ev"."sentence_id" = "sentence"."id")
        ORDER BY "sentence"."shuffle_key", "sentence"."id" LIMIT 1) "found" ON TRUE
    LEFT JOIN (SELECT "last"."shuffle_key", "last"."id" FROM "annotate_sentence" "last" ORDER BY "last"."shuffle_key" DESC, "last"."id" DESC LIMIT 1) "past" ON TRUE)
WHERE "annotator_id" = %(annotator)s AND "target_id" = %(target)s
RETURNING "article_id", "position",
    (SELECT "live"."sentence_id" FROM "annotate_assignment" "live"
     WHERE "live"."annotator_id" = %(annotator)s AND "live"."target_id" = %(target)s
     AND "live"."expires_at" > %(now)s
     AND NOT EXISTS (SELECT 1 FROM "annotate_annotation" "labelled"
                     WHERE "labelled"."annotator_id" = %(annotator)s AND "labelled"."target_id" = %(target)s
                     AND "labelled"."sentence_id" = "live"."sentence_id")),
    COALESCE((SELECT "done"."labels" + "done"."skips" FROM "annotate_annotatortally" "done"
              WHERE "done"."annotator_id" = %(annotator)s AND "done"."target_id" = %(target)s), 0),
    EXISTS (SELECT 1 FROM "annotate_evaluationpause" "pause" WHERE "pause"."annotator_id" = %(annotator)s
            AND "pause"."target_id" = %(target)s AND "pause"."paused_at" IS NOT NULL),
    (SELECT "ret"."sentence_id" FROM "annotate_labelreturn" "ret"
     WHERE "ret"."annotator_id" = %(annotator)s AND "ret"."target_id" = %(target)s AND "ret"."resolved_at" IS NULL
     ORDER BY "ret"."created_at", "ret"."id" LIMIT 1),
    "ranked_version_id", "ranked_measure", "ranked_score", "ranked_sentence_id",
    "shuffle_key", "shuffle_sentence_id"

-- OPEN_IN_ORDER
SELECT "sentence"."id" FROM "annotate_sentence" "sentence"
    WHERE "sentence"."article_id" >= %(start_article)s
    AND NOT ("sentence"."article_id" = %(start_article)s AND "sentence"."position" < %(start_position)s) AND NOT EXISTS (SELECT 1 FROM "annotate_annotation" "mine" WHERE "mine"."sentence_id" = "sentence"."id"
        AND "mine"."target_id" = %(target)s AND "mine"."annotator_id" = %(annotator)s)
    AND (SELECT COUNT(*) FROM "annotate_assignment" "held" WHERE "held"."sentence_id" = "sentence"."id"
        AND "held"."target_id" = %(target)s AND "held"."expires_at" > %(now)s
        AND "held"."annotator_id" <> %(annotator)s) < COALESCE((SELECT CASE WHEN "tally"."votes" >= %(overlap)s AND "tally"."votes" < %(most)s AND "tally"."adjudicated" = ''
        AND ("tally"."pro" < "tally"."votes" AND "tally"."contra" < "tally"."votes" AND "tally"."neutral" < "tally"."votes"
        OR %(threshold)s > 0 AND EXISTS (SELECT 1 FROM "annotate_sentenceposterior" "post"
            WHERE "post"."target_id" = %(target)s AND "post"."sentence_id" = "tally"."sentence_id"
            AND +"post"."posterior" < %(threshold)s AND "post"."votes" = "tally"."votes")) THEN 1
        ELSE %(overlap)s - "tally"."votes" END
        FROM "annotate_sentencetally" "tally" WHERE "tally"."target_id" = %(target)s
        AND "tally"."sentence_id" = "sentence"."id"), %(overlap)s)
    AND NOT EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev" WHERE "ev"."target_id" = %(target)s
        AND "ev"."sentence_id" = "sentence"."id")
    ORDER BY "sentence"."article_id", "sentence"."position"

-- ANY_OPEN
SELECT 1 FROM (SELECT "sentence"."id" FROM "annotate_sentence" "sentence"
    WHERE "sentence"."article_id" >= %(start_article)s
    AND NOT ("sentence"."article_id" = %(start_article)s AND "sentence"."position" < %(start_position)s) AND NOT EXISTS (SELECT 1 FROM "annotate_annotation" "mine" WHERE "mine"."sentence_id" = "sentence"."id"
        AND "mine"."target_id" = %(target)s AND "mine"."annotator_id" = %(annotator)s)
    AND (SELECT COUNT(*) FROM "annotate_assignment" "held" WHERE "held"."sentence_id" = "sentence"."id"
        AND "held"."target_id" = %(target)s AND "held"."expires_at" > %(now)s
        AND "held"."annotator_id" <> %(annotator)s) < COALESCE((SELECT CASE WHEN "tally"."votes" >= %(overlap)s AND "tally"."votes" < %(most)s AND "tally"."adjudicated" = ''
        AND ("tally"."pro" < "tally"."votes" AND "tally"."contra" < "tally"."votes" AND "tally"."neutral" < "tally"."votes"
        OR %(threshold)s > 0 AND EXISTS (SELECT 1 FROM "annotate_sentenceposterior" "post"
            WHERE "post"."target_id" = %(target)s AND "post"."sentence_id" = "tally"."sentence_id"
            AND +"post"."posterior" < %(threshold)s AND "post"."votes" = "tally"."votes")) THEN 1
        ELSE %(overlap)s - "tally"."votes" END
        FROM "annotate_sentencetally" "tally" WHERE "tally"."target_id" = %(target)s
        AND "tally"."sentence_id" = "sentence"."id"), %(overlap)s)
    AND NOT EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev" WHERE "ev"."target_id" = %(target)s
        AND "ev"."sentence_id" = "sentence"."id")
    ORDER BY "sentence"."article_id", "sentence"."position" LIMIT 1) "found"

-- RESERVE_FIRST_OPEN
INSERT INTO "annotate_assignment" ("annotator_id", "target_id", "sentence_id", "shown_at", "expires_at")
SELECT %(annotator)s, %(target)s, "found"."id", %(now)s, %(expires)s FROM (SELECT "sentence"."id" FROM "annotate_sentence" "sentence"
    WHERE "sentence"."article_id" >= %(start_article)s
    AND NOT ("sentence"."article_id" = %(start_article)s AND "sentence"."position" < %(start_position)s) AND NOT EXISTS (SELECT 1 FROM "annotate_annotation" "mine" WHERE "mine"."sentence_id" = "sentence"."id"
        AND "mine"."target_id" = %(target)s AND "mine"."annotator_id" = %(annotator)s)
    AND (SELECT COUNT(*) FROM "annotate_assignment" "held" WHERE "held"."sentence_id" = "sentence"."id"
        AND "held"."target_id" = %(target)s AND "held"."expires_at" > %(now)s
        AND "held"."annotator_id" <> %(annotator)s) < COALESCE((SELECT CASE WHEN "tally"."votes" >= %(overlap)s AND "tally"."votes" < %(most)s AND "tally"."adjudicated" = ''
        AND ("tally"."pro" < "tally"."votes" AND "tally"."contra" < "tally"."votes" AND "tally"."neutral" < "tally"."votes"
        OR %(threshold)s > 0 AND EXISTS (SELECT 1 FROM "annotate_sentenceposterior" "post"
            WHERE "post"."target_id" = %(target)s AND "post"."sentence_id" = "tally"."sentence_id"
            AND +"post"."posterior" < %(threshold)s AND "post"."votes" = "tally"."votes")) THEN 1
        ELSE %(overlap)s - "tally"."votes" END
        FROM "annotate_sentencetally" "tally" WHERE "tally"."target_id" = %(target)s
        AND "tally"."sentence_id" = "sentence"."id"), %(overlap)s)
    AND NOT EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev" WHERE "ev"."target_id" = %(target)s
        AND "ev"."sentence_id" = "sentence"."id")
    ORDER BY "sentence"."article_id", "sentence"."position" LIMIT 1) "found"
WHERE 1 = 1 ON CONFLICT ("annotator_id", "target_id") DO UPDATE SET "sentence_id" = excluded."sentence_id",
    "shown_at" = excluded."shown_at", "expires_at" = excluded."expires_at"
RETURNING "sentence_id"

-- OPEN_SHUFFLED
SELECT "sentence"."id" FROM "annotate_sentence" "sentence"
    WHERE "sentence"."shuffle_key" >= %(start_key)s
    AND NOT ("sentence"."shuffle_key" = %(start_key)s AND "sentence"."id" < %(start_sentence)s) AND NOT EXISTS (SELECT 1 FROM "annotate_annotation" "mine" WHERE "mine"."sentence_id" = "sentence"."id"
        AND "mine"."target_id" = %(target)s AND "mine"."annotator_id" = %(annotator)s)
    AND (SELECT COUNT(*) FROM "annotate_assignment" "held" WHERE "held"."sentence_id" = "sentence"."id"
        AND "held"."target_id" = %(target)s AND "held"."expires_at" > %(now)s
        AND "held"."annotator_id" <> %(annotator)s) < COALESCE((SELECT CASE WHEN "tally"."votes" >= %(overlap)s AND "tally"."votes" < %(most)s AND "tally"."adjudicated" = ''
        AND ("tally"."pro" < "tally"."votes" AND "tally"."contra" < "tally"."votes" AND "tally"."neutral" < "tally"."votes"
        OR %(threshold)s > 0 AND EXISTS (SELECT 1 FROM "annotate_sentenceposterior" "post"
            WHERE "post"."target_id" = %(target)s AND "post"."sentence_id" = "tally"."sentence_id"
            AND +"post"."posterior" < %(threshold)s AND "post"."votes" = "tally"."votes")) THEN 1
        ELSE %(overlap)s - "tally"."votes" END
        FROM "annotate_sentencetally" "tally" WHERE "tally"."target_id" = %(target)s
        AND "tally"."sentence_id" = "sentence"."id"), %(overlap)s)
    AND NOT EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev" WHERE "ev"."target_id" = %(target)s
        AND "ev"."sentence_id" = "sentence"."id")
    ORDER BY "sentence"."shuffle_key", "sentence"."id"

-- RESERVE_FIRST_OPEN_SHUFFLED
INSERT INTO "annotate_assignment" ("annotator_id", "target_id", "sentence_id", "shown_at", "expires_at")
SELECT %(annotator)s, %(target)s, "found"."id", %(now)s, %(expires)s FROM (SELECT "sentence"."id" FROM "annotate_sentence" "sentence"
    WHERE "sentence"."shuffle_key" >= %(start_key)s
    AND NOT ("sentence"."shuffle_key" = %(start_key)s AND "sentence"."id" < %(start_sentence)s) AND NOT EXISTS (SELECT 1 FROM "annotate_annotation" "mine" WHERE "mine"."sentence_id" = "sentence"."id"
        AND "mine"."target_id" = %(target)s AND "mine"."annotator_id" = %(annotator)s)
    AND (SELECT COUNT(*) FROM "annotate_assignment" "held" WHERE "held"."sentence_id" = "sentence"."id"
        AND "held"."target_id" = %(target)s AND "held"."expires_at" > %(now)s
        AND "held"."annotator_id" <> %(annotator)s) < COALESCE((SELECT CASE WHEN "tally"."votes" >= %(overlap)s AND "tally"."votes" < %(most)s AND "tally"."adjudicated" = ''
        AND ("tally"."pro" < "tally"."votes" AND "tally"."contra" < "tally"."votes" AND "tally"."neutral" < "tally"."votes"
        OR %(threshold)s > 0 AND EXISTS (SELECT 1 FROM "annotate_sentenceposterior" "post"
            WHERE "post"."target_id" = %(target)s AND "post"."sentence_id" = "tally"."sentence_id"
            AND +"post"."posterior" < %(threshold)s AND "post"."votes" = "tally"."votes")) THEN 1
        ELSE %(overlap)s - "tally"."votes" END
        FROM "annotate_sentencetally" "tally" WHERE "tally"."target_id" = %(target)s
        AND "tally"."sentence_id" = "sentence"."id"), %(overlap)s)
    AND NOT EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev" WHERE "ev"."target_id" = %(target)s
        AND "ev"."sentence_id" = "sentence"."id")
    ORDER BY "sentence"."shuffle_key", "sentence"."id" LIMIT 1) "found"
WHERE 1 = 1 ON CONFLICT ("annotator_id", "target_id") DO UPDATE SET "sentence_id" = excluded."sentence_id",
    "shown_at" = excluded."shown_at", "expires_at" = excluded."expires_at"
RETURNING "sentence_id"

-- RESERVE
INSERT INTO "annotate_assignment" ("annotator_id", "target_id", "sentence_id", "shown_at", "expires_at")
VALUES (%(annotator)s, %(target)s, %(sentence)s, %(now)s, %(expires)s) ON CONFLICT ("annotator_id", "target_id") DO UPDATE SET "sentence_id" = excluded."sentence_id",
    "shown_at" = excluded."shown_at", "expires_at" = excluded."expires_at"

-- RESERVE_IF_ROOM
INSERT INTO "annotate_assignment" ("annotator_id", "target_id", "sentence_id", "shown_at", "expires_at")
SELECT %(annotator)s, %(target)s, %(sentence)s, %(now)s, %(expires)s
WHERE (EXISTS (SELECT 1 FROM "annotate_assignment" "own" WHERE "own"."annotator_id" = %(annotator)s
        AND "own"."target_id" = %(target)s AND "own"."sentence_id" = %(sentence)s
        AND "own"."expires_at" > %(now)s)
    OR EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev" WHERE "ev"."target_id" = %(target)s
        AND "ev"."sentence_id" = %(sentence)s)
    OR (SELECT COUNT(*) FROM "annotate_assignment" "held" WHERE "held"."sentence_id" = %(sentence)s
        AND "held"."target_id" = %(target)s AND "held"."expires_at" > %(now)s
        AND "held"."annotator_id" <> %(annotator)s) < COALESCE((SELECT CASE WHEN "tally"."votes" >= %(overlap)s AND "tally"."votes" < %(most)s AND "tally"."adjudicated" = ''
        AND ("tally"."pro" < "tally"."votes" AND "tally"."contra" < "tally"."votes" AND "tally"."neutral" < "tally"."votes"
        OR %(threshold)s > 0 AND EXISTS (SELECT 1 FROM "annotate_sentenceposterior" "post"
            WHERE "post"."target_id" = %(target)s AND "post"."sentence_id" = "tally"."sentence_id"
            AND +"post"."posterior" < %(threshold)s AND "post"."votes" = "tally"."votes")) THEN 1
        ELSE %(overlap)s - "tally"."votes" END
        FROM "annotate_sentencetally" "tally" WHERE "tally"."target_id" = %(target)s
        AND "tally"."sentence_id" = %(sentence)s), %(overlap)s)) ON CONFLICT ("annotator_id", "target_id") DO UPDATE SET "sentence_id" = excluded."sentence_id",
    "shown_at" = excluded."shown_at", "expires_at" = excluded."expires_at"
RETURNING "sentence_id"

-- RESERVE_EVALUATION
INSERT INTO "annotate_assignment" ("annotator_id", "target_id", "sentence_id", "shown_at", "expires_at")
SELECT %(annotator)s, %(target)s, "found"."sentence_id", %(now)s, %(expires)s FROM (
    SELECT "item"."sentence_id" FROM "annotate_evaluationitem" "item"
    WHERE "item"."target_id" = %(target)s AND NOT EXISTS (SELECT 1 FROM "annotate_annotation" "mine" WHERE "mine"."sentence_id" = "item"."sentence_id"
        AND "mine"."target_id" = %(target)s AND "mine"."annotator_id" = %(annotator)s)
    ORDER BY ("item"."sentence_id" %% 65521) * %(shuffle)s %% 65521, "item"."sentence_id" LIMIT 1) "found"
WHERE 1 = 1 ON CONFLICT ("annotator_id", "target_id") DO UPDATE SET "sentence_id" = excluded."sentence_id",
    "shown_at" = excluded."shown_at", "expires_at" = excluded."expires_at"
RETURNING "sentence_id"

-- HAS_ROOM
SELECT 1 WHERE (EXISTS (SELECT 1 FROM "annotate_assignment" "own" WHERE "own"."annotator_id" = %(annotator)s
        AND "own"."target_id" = %(target)s AND "own"."sentence_id" = %(sentence)s
        AND "own"."expires_at" > %(now)s)
    OR EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev" WHERE "ev"."target_id" = %(target)s
        AND "ev"."sentence_id" = %(sentence)s)
    OR (SELECT COUNT(*) FROM "annotate_assignment" "held" WHERE "held"."sentence_id" = %(sentence)s
        AND "held"."target_id" = %(target)s AND "held"."expires_at" > %(now)s
        AND "held"."annotator_id" <> %(annotator)s) < COALESCE((SELECT CASE WHEN "tally"."votes" >= %(overlap)s AND "tally"."votes" < %(most)s AND "tally"."adjudicated" = ''
        AND ("tally"."pro" < "tally"."votes" AND "tally"."contra" < "tally"."votes" AND "tally"."neutral" < "tally"."votes"
        OR %(threshold)s > 0 AND EXISTS (SELECT 1 FROM "annotate_sentenceposterior" "post"
            WHERE "post"."target_id" = %(target)s AND "post"."sentence_id" = "tally"."sentence_id"
            AND +"post"."posterior" < %(threshold)s AND "post"."votes" = "tally"."votes")) THEN 1
        ELSE %(overlap)s - "tally"."votes" END
        FROM "annotate_sentencetally" "tally" WHERE "tally"."target_id" = %(target)s
        AND "tally"."sentence_id" = %(sentence)s), %(overlap)s))

-- RANKED_FRONTIER[least_confident]
SELECT "sg"."confidence", "sg"."sentence_id" FROM "annotate_suggestion" "sg"
WHERE "sg"."model_version_id" = %(version)s AND "sg"."confidence" >= %(score)s
    AND NOT ("sg"."confidence" = %(score)s AND "sg"."sentence_id" < %(from_sentence)s)
    AND NOT EXISTS (SELECT 1 FROM "annotate_annotation" "mine" WHERE "mine"."sentence_id" = "sg"."sentence_id"
        AND "mine"."target_id" = %(target)s AND "mine"."annotator_id" = %(annotator)s)
    AND COALESCE((SELECT CASE WHEN "tally"."votes" >= %(overlap)s AND "tally"."votes" < %(most)s AND "tally"."adjudicated" = ''
        AND ("tally"."pro" < "tally"."votes" AND "tally"."contra" < "tally"."votes" AND "tally"."neutral" < "tally"."votes"
        OR %(threshold)s > 0 AND EXISTS (SELECT 1 FROM "annotate_sentenceposterior" "post"
            WHERE "post"."target_id" = %(target)s AND "post"."sentence_id" = "tally"."sentence_id"
            AND +"post"."posterior" < %(threshold)s AND "post"."votes" = "tally"."votes")) THEN 1
        ELSE %(overlap)s - "tally"."votes" END
        FROM "annotate_sentencetally" "tally" WHERE "tally"."target_id" = %(target)s
        AND "tally"."sentence_id" = "sg"."sentence_id"), %(overlap)s) > 0
    AND NOT EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev" WHERE "ev"."target_id" = %(target)s
        AND "ev"."sentence_id" = "sg"."sentence_id")
ORDER BY "sg"."confidence" ASC, "sg"."sentence_id" LIMIT 1

-- RANKED_FRONTIER[margin]
SELECT "sg"."margin", "sg"."sentence_id" FROM "annotate_suggestion" "sg"
WHERE "sg"."model_version_id" = %(version)s AND "sg"."margin" >= %(score)s
    AND NOT ("sg"."margin" = %(score)s AND "sg"."sentence_id" < %(from_sentence)s)
    AND NOT EXISTS (SELECT 1 FROM "annotate_annotation" "mine" WHERE "mine"."sentence_id" = "sg"."sentence_id"
        AND "mine"."target_id" = %(target)s AND "mine"."annotator_id" = %(annotator)s)
    AND COALESCE((SELECT CASE WHEN "tally"."votes" >= %(overlap)s AND "tally"."votes" < %(most)s AND "tally"."adjudicated" = ''
        AND ("tally"."pro" < "tally"."votes" AND "tally"."contra" < "tally"."votes" AND "tally"."neutral" < "tally"."votes"
        OR %(threshold)s > 0 AND EXISTS (SELECT 1 FROM "annotate_sentenceposterior" "post"
            WHERE "post"."target_id" = %(target)s AND "post"."sentence_id" = "tally"."sentence_id"
            AND +"post"."posterior" < %(threshold)s AND "post"."votes" = "tally"."votes")) THEN 1
        ELSE %(overlap)s - "tally"."votes" END
        FROM "annotate_sentencetally" "tally" WHERE "tally"."target_id" = %(target)s
        AND "tally"."sentence_id" = "sg"."sentence_id"), %(overlap)s) > 0
    AND NOT EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev" WHERE "ev"."target_id" = %(target)s
        AND "ev"."sentence_id" = "sg"."sentence_id")
ORDER BY "sg"."margin" ASC, "sg"."sentence_id" LIMIT 1

-- RANKED_FRONTIER[entropy]
SELECT "sg"."entropy", "sg"."sentence_id" FROM "annotate_suggestion" "sg"
WHERE "sg"."model_version_id" = %(version)s AND "sg"."entropy" <= %(score)s
    AND NOT ("sg"."entropy" = %(score)s AND "sg"."sentence_id" < %(from_sentence)s)
    AND NOT EXISTS (SELECT 1 FROM "annotate_annotation" "mine" WHERE "mine"."sentence_id" = "sg"."sentence_id"
        AND "mine"."target_id" = %(target)s AND "mine"."annotator_id" = %(annotator)s)
    AND COALESCE((SELECT CASE WHEN "tally"."votes" >= %(overlap)s AND "tally"."votes" < %(most)s AND "tally"."adjudicated" = ''
        AND ("tally"."pro" < "tally"."votes" AND "tally"."contra" < "tally"."votes" AND "tally"."neutral" < "tally"."votes"
        OR %(threshold)s > 0 AND EXISTS (SELECT 1 FROM "annotate_sentenceposterior" "post"
            WHERE "post"."target_id" = %(target)s AND "post"."sentence_id" = "tally"."sentence_id"
            AND +"post"."posterior" < %(threshold)s AND "post"."votes" = "tally"."votes")) THEN 1
        ELSE %(overlap)s - "tally"."votes" END
        FROM "annotate_sentencetally" "tally" WHERE "tally"."target_id" = %(target)s
        AND "tally"."sentence_id" = "sg"."sentence_id"), %(overlap)s) > 0
    AND NOT EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev" WHERE "ev"."target_id" = %(target)s
        AND "ev"."sentence_id" = "sg"."sentence_id")
ORDER BY "sg"."entropy" DESC, "sg"."sentence_id" LIMIT 1

-- RANKED_OPEN[least_confident]
SELECT "sg"."sentence_id" FROM "annotate_suggestion" "sg"
WHERE "sg"."model_version_id" = %(version)s AND "sg"."confidence" >= %(score)s
    AND NOT ("sg"."confidence" = %(score)s AND "sg"."sentence_id" < %(from_sentence)s)
    AND NOT EXISTS (SELECT 1 FROM "annotate_annotation" "mine" WHERE "mine"."sentence_id" = "sg"."sentence_id"
        AND "mine"."target_id" = %(target)s AND "mine"."annotator_id" = %(annotator)s)
    AND (SELECT COUNT(*) FROM "annotate_assignment" "held" WHERE "held"."sentence_id" = "sg"."sentence_id"
        AND "held"."target_id" = %(target)s AND "held"."expires_at" > %(now)s
        AND "held"."annotator_id" <> %(annotator)s) < COALESCE((SELECT CASE WHEN "tally"."votes" >= %(overlap)s AND "tally"."votes" < %(most)s AND "tally"."adjudicated" = ''
        AND ("tally"."pro" < "tally"."votes" AND "tally"."contra" < "tally"."votes" AND "tally"."neutral" < "tally"."votes"
        OR %(threshold)s > 0 AND EXISTS (SELECT 1 FROM "annotate_sentenceposterior" "post"
            WHERE "post"."target_id" = %(target)s AND "post"."sentence_id" = "tally"."sentence_id"
            AND +"post"."posterior" < %(threshold)s AND "post"."votes" = "tally"."votes")) THEN 1
        ELSE %(overlap)s - "tally"."votes" END
        FROM "annotate_sentencetally" "tally" WHERE "tally"."target_id" = %(target)s
        AND "tally"."sentence_id" = "sg"."sentence_id"), %(overlap)s)
    AND NOT EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev" WHERE "ev"."target_id" = %(target)s
        AND "ev"."sentence_id" = "sg"."sentence_id")
ORDER BY "sg"."confidence" ASC, "sg"."sentence_id" LIMIT 1

-- RANKED_OPEN[margin]
SELECT "sg"."sentence_id" FROM "annotate_suggestion" "sg"
WHERE "sg"."model_version_id" = %(version)s AND "sg"."margin" >= %(score)s
    AND NOT ("sg"."margin" = %(score)s AND "sg"."sentence_id" < %(from_sentence)s)
    AND NOT EXISTS (SELECT 1 FROM "annotate_annotation" "mine" WHERE "mine"."sentence_id" = "sg"."sentence_id"
        AND "mine"."target_id" = %(target)s AND "mine"."annotator_id" = %(annotator)s)
    AND (SELECT COUNT(*) FROM "annotate_assignment" "held" WHERE "held"."sentence_id" = "sg"."sentence_id"
        AND "held"."target_id" = %(target)s AND "held"."expires_at" > %(now)s
        AND "held"."annotator_id" <> %(annotator)s) < COALESCE((SELECT CASE WHEN "tally"."votes" >= %(overlap)s AND "tally"."votes" < %(most)s AND "tally"."adjudicated" = ''
        AND ("tally"."pro" < "tally"."votes" AND "tally"."contra" < "tally"."votes" AND "tally"."neutral" < "tally"."votes"
        OR %(threshold)s > 0 AND EXISTS (SELECT 1 FROM "annotate_sentenceposterior" "post"
            WHERE "post"."target_id" = %(target)s AND "post"."sentence_id" = "tally"."sentence_id"
            AND +"post"."posterior" < %(threshold)s AND "post"."votes" = "tally"."votes")) THEN 1
        ELSE %(overlap)s - "tally"."votes" END
        FROM "annotate_sentencetally" "tally" WHERE "tally"."target_id" = %(target)s
        AND "tally"."sentence_id" = "sg"."sentence_id"), %(overlap)s)
    AND NOT EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev" WHERE "ev"."target_id" = %(target)s
        AND "ev"."sentence_id" = "sg"."sentence_id")
ORDER BY "sg"."margin" ASC, "sg"."sentence_id" LIMIT 1

-- RANKED_OPEN[entropy]
SELECT "sg"."sentence_id" FROM "annotate_suggestion" "sg"
WHERE "sg"."model_version_id" = %(version)s AND "sg"."entropy" <= %(score)s
    AND NOT ("sg"."entropy" = %(score)s AND "sg"."sentence_id" < %(from_sentence)s)
    AND NOT EXISTS (SELECT 1 FROM "annotate_annotation" "mine" WHERE "mine"."sentence_id" = "sg"."sentence_id"
        AND "mine"."target_id" = %(target)s AND "mine"."annotator_id" = %(annotator)s)
    AND (SELECT COUNT(*) FROM "annotate_assignment" "held" WHERE "held"."sentence_id" = "sg"."sentence_id"
        AND "held"."target_id" = %(target)s AND "held"."expires_at" > %(now)s
        AND "held"."annotator_id" <> %(annotator)s) < COALESCE((SELECT CASE WHEN "tally"."votes" >= %(overlap)s AND "tally"."votes" < %(most)s AND "tally"."adjudicated" = ''
        AND ("tally"."pro" < "tally"."votes" AND "tally"."contra" < "tally"."votes" AND "tally"."neutral" < "tally"."votes"
        OR %(threshold)s > 0 AND EXISTS (SELECT 1 FROM "annotate_sentenceposterior" "post"
            WHERE "post"."target_id" = %(target)s AND "post"."sentence_id" = "tally"."sentence_id"
            AND +"post"."posterior" < %(threshold)s AND "post"."votes" = "tally"."votes")) THEN 1
        ELSE %(overlap)s - "tally"."votes" END
        FROM "annotate_sentencetally" "tally" WHERE "tally"."target_id" = %(target)s
        AND "tally"."sentence_id" = "sg"."sentence_id"), %(overlap)s)
    AND NOT EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev" WHERE "ev"."target_id" = %(target)s
        AND "ev"."sentence_id" = "sg"."sentence_id")
ORDER BY "sg"."entropy" DESC, "sg"."sentence_id" LIMIT 1

-- INSERT_STANCE_LABEL
INSERT INTO "annotate_annotation" ("annotator_id", "sentence_id", "target_id", "label", "spent_ms",
    "accepted_suggestion", "suggestion_shown", "created_at", "updated_at")
SELECT %(annotator)s, %(sentence)s, %(target)s, %(label)s, %(spent_ms)s,
    %(accepted_suggestion)s, %(suggestion_shown)s, %(now)s, %(now)s
WHERE (EXISTS (SELECT 1 FROM "annotate_assignment" "own" WHERE "own"."annotator_id" = %(annotator)s
        AND "own"."target_id" = %(target)s AND "own"."sentence_id" = %(sentence)s
        AND "own"."expires_at" > %(now)s)
    OR EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev" WHERE "ev"."target_id" = %(target)s
        AND "ev"."sentence_id" = %(sentence)s)
    OR (SELECT COUNT(*) FROM "annotate_assignment" "held" WHERE "held"."sentence_id" = %(sentence)s
        AND "held"."target_id" = %(target)s AND "held"."expires_at" > %(now)s
        AND "held"."annotator_id" <> %(annotator)s) < COALESCE((SELECT CASE WHEN "tally"."votes" >= %(overlap)s AND "tally"."votes" < %(most)s AND "tally"."adjudicated" = ''
        AND ("tally"."pro" < "tally"."votes" AND "tally"."contra" < "tally"."votes" AND "tally"."neutral" < "tally"."votes"
        OR %(threshold)s > 0 AND EXISTS (SELECT 1 FROM "annotate_sentenceposterior" "post"
            WHERE "post"."target_id" = %(target)s AND "post"."sentence_id" = "tally"."sentence_id"
            AND +"post"."posterior" < %(threshold)s AND "post"."votes" = "tally"."votes")) THEN 1
        ELSE %(overlap)s - "tally"."votes" END
        FROM "annotate_sentencetally" "tally" WHERE "tally"."target_id" = %(target)s
        AND "tally"."sentence_id" = %(sentence)s), %(overlap)s))
ON CONFLICT ("annotator_id", "sentence_id", "target_id") DO NOTHING RETURNING "id"

-- INSERT_SKIP
INSERT INTO "annotate_annotation" ("annotator_id", "sentence_id", "target_id", "label", "spent_ms",
    "accepted_suggestion", "suggestion_shown", "created_at", "updated_at")
SELECT %(annotator)s, %(sentence)s, %(target)s, %(label)s, %(spent_ms)s,
    %(accepted_suggestion)s, %(suggestion_shown)s, %(now)s, %(now)s
WHERE 1 = 1 ON CONFLICT ("annotator_id", "sentence_id", "target_id") DO NOTHING RETURNING "id"

-- LOCK_TARGET
SELECT "t"."id", "t"."name", "t"."description", "t"."guidelines", "t"."aliases", "t"."archived_at", "t"."overlap", "t"."dynamic_overlap", "t"."max_overlap", "t"."posterior_threshold", "t"."queue_order", "t"."uncertainty_measure", "t"."random_share", "t"."control_share", "t"."gold_method", "t"."suggestion_mode", "t"."active_version_id", "t"."evaluation_rate", "t"."evaluation_onboarding", "t"."min_label_ms", "t"."evaluation_threshold", "t"."evaluation_min_items", "t"."evaluation_pause", "t"."retrain_every", "t"."retrain_floor_minutes", "t"."retrain_gold_mark", "t"."retrain_enqueued_at", "t"."created_at" FROM "annotate_target" "t" WHERE "t"."id" = %(target)s

-- LOCK_TARGET_FOR_UPDATE
SELECT "t"."id", "t"."name", "t"."description", "t"."guidelines", "t"."aliases", "t"."archived_at", "t"."overlap", "t"."dynamic_overlap", "t"."max_overlap", "t"."posterior_threshold", "t"."queue_order", "t"."uncertainty_measure", "t"."random_share", "t"."control_share", "t"."gold_method", "t"."suggestion_mode", "t"."active_version_id", "t"."evaluation_rate", "t"."evaluation_onboarding", "t"."min_label_ms", "t"."evaluation_threshold", "t"."evaluation_min_items", "t"."evaluation_pause", "t"."retrain_every", "t"."retrain_floor_minutes", "t"."retrain_gold_mark", "t"."retrain_enqueued_at", "t"."created_at" FROM "annotate_target" "t" WHERE "t"."id" = %(target)s FOR UPDATE

-- TARGET_AND_SENTENCE
SELECT "t"."id", "t"."name", "t"."description", "t"."guidelines", "t"."aliases", "t"."archived_at", "t"."overlap", "t"."dynamic_overlap", "t"."max_overlap", "t"."posterior_threshold", "t"."queue_order", "t"."uncertainty_measure", "t"."random_share", "t"."control_share", "t"."gold_method", "t"."suggestion_mode", "t"."active_version_id", "t"."evaluation_rate", "t"."evaluation_onboarding", "t"."min_label_ms", "t"."evaluation_threshold", "t"."evaluation_min_items", "t"."evaluation_pause", "t"."retrain_every", "t"."retrain_floor_minutes", "t"."retrain_gold_mark", "t"."retrain_enqueued_at", "t"."created_at",
    "s"."id", "s"."article_id", "s"."position", "s"."text", "s"."start", "s"."end",
    "sg"."label", "sg"."confidence", EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev" WHERE "ev"."target_id" = %(target)s
        AND "ev"."sentence_id" = "s"."id")
FROM "annotate_target" "t"
JOIN "annotate_sentence" "s" ON "s"."id" = %(sentence)s
LEFT JOIN "annotate_suggestion" "sg" ON "sg"."model_version_id" = "t"."active_version_id"
    AND "sg"."sentence_id" = "s"."id"
WHERE "t"."id" = %(target)s

-- TARGET_AND_SENTENCE_FOR_UPDATE
SELECT "t"."id", "t"."name", "t"."description", "t"."guidelines", "t"."aliases", "t"."archived_at", "t"."overlap", "t"."dynamic_overlap", "t"."max_overlap", "t"."posterior_threshold", "t"."queue_order", "t"."uncertainty_measure", "t"."random_share", "t"."control_share", "t"."gold_method", "t"."suggestion_mode", "t"."active_version_id", "t"."evaluation_rate", "t"."evaluation_onboarding", "t"."min_label_ms", "t"."evaluation_threshold", "t"."evaluation_min_items", "t"."evaluation_pause", "t"."retrain_every", "t"."retrain_floor_minutes", "t"."retrain_gold_mark", "t"."retrain_enqueued_at", "t"."created_at",
    "s"."id", "s"."article_id", "s"."position", "s"."text", "s"."start", "s"."end",
    "sg"."label", "sg"."confidence", EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev" WHERE "ev"."target_id" = %(target)s
        AND "ev"."sentence_id" = "s"."id")
FROM "annotate_target" "t"
JOIN "annotate_sentence" "s" ON "s"."id" = %(sentence)s
LEFT JOIN "annotate_suggestion" "sg" ON "sg"."model_version_id" = "t"."active_version_id"
    AND "sg"."sentence_id" = "s"."id"
WHERE "t"."id" = %(target)s FOR UPDATE OF "t"

-- CARD
SELECT "s"."id", "s"."article_id", "s"."position", "s"."text", "s"."start", "s"."end",
    "a"."title", "a"."source", "sg"."label", "sg"."confidence",
    
COALESCE((SELECT "done"."labels" + "done"."skips" FROM "annotate_annotatortally" "done"
 WHERE "done"."annotator_id" = %(annotator)s AND "done"."target_id" = %(target)s), 0) AS "done",
(SELECT COUNT(*) FROM "annotate_annotation" "today" WHERE "today"."annotator_id" = %(annotator)s
 AND "today"."target_id" = %(target)s AND "today"."updated_at" >= %(today)s) AS "today"
,
    EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev" WHERE "ev"."target_id" = %(target)s
        AND "ev"."sentence_id" = "x"."id"),
    "ret"."id", "ret"."label", "ret"."comment"
FROM "annotate_sentence" "x"
JOIN "annotate_sentence" "s" ON "s"."article_id" = "x"."article_id"
    AND "s"."position" BETWEEN "x"."position" - %(around)s AND "x"."position" + %(around)s
JOIN "annotate_article" "a" ON "a"."id" = "x"."article_id"
LEFT JOIN "annotate_suggestion" "sg" ON "sg"."sentence_id" = "s"."id" AND "sg"."model_version_id" = %(version)s
LEFT JOIN "annotate_labelreturn" "ret" ON "ret"."annotator_id" = %(annotator)s AND "ret"."target_id" = %(target)s
    AND "ret"."sentence_id" = "x"."id" AND "ret"."resolved_at" IS NULL
WHERE "x"."id" = %(sentence)s
ORDER BY "s"."position"

