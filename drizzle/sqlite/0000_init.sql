CREATE TABLE `kv` (
	`key` blob PRIMARY KEY NOT NULL,
	`value` blob NOT NULL,
	`encoding` integer NOT NULL,
	`version` integer NOT NULL,
	`expires_at` integer
);
--> statement-breakpoint
CREATE INDEX `kv_expires_at_idx` ON `kv` (`expires_at`);--> statement-breakpoint
CREATE TABLE `kv_meta` (
	`id` integer PRIMARY KEY NOT NULL,
	`version` integer DEFAULT 0 NOT NULL,
	`serializer` text NOT NULL,
	`format_version` integer NOT NULL
);
