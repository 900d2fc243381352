CREATE TABLE "kv" (
	"key" "bytea" PRIMARY KEY NOT NULL,
	"value" "bytea" NOT NULL,
	"encoding" smallint NOT NULL,
	"version" bigint NOT NULL,
	"expires_at" bigint
);
--> statement-breakpoint
CREATE TABLE "kv_meta" (
	"id" smallint PRIMARY KEY NOT NULL,
	"version" bigint DEFAULT 0 NOT NULL,
	"serializer" text NOT NULL,
	"format_version" integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX "kv_expires_at_idx" ON "kv" USING btree ("expires_at");