CREATE TABLE "kv_queue" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"value" "bytea" NOT NULL,
	"encoding" smallint NOT NULL,
	"ready_at" bigint NOT NULL,
	"lease_token" text,
	"attempts" integer NOT NULL,
	"keys_if_undelivered" text NOT NULL,
	"backoff_schedule" text NOT NULL
);
--> statement-breakpoint
CREATE INDEX "kv_queue_ready_at_idx" ON "kv_queue" USING btree ("ready_at","id");