CREATE TABLE `kv_queue` (
	`id` integer PRIMARY KEY NOT NULL,
	`value` blob NOT NULL,
	`encoding` integer NOT NULL,
	`ready_at` integer NOT NULL,
	`lease_token` text,
	`attempts` integer NOT NULL,
	`keys_if_undelivered` text NOT NULL,
	`backoff_schedule` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `kv_queue_ready_at_idx` ON `kv_queue` (`ready_at`,`id`);