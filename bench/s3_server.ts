/**
 * The local S3 as a process of its own for the benchmark: in AWS, S3 and the Participant
 * Service do not share a CPU, so here they do not share a thread either.
 *
 * Run: `deno run -A bench/s3_server.ts [origins]`, with the origins the bucket's CORS rule
 * allows, comma-separated, where browsers upload to it. Prints one JSON line
 * (`{"url": ..., "bucket": ...}`) once ready; stops on SIGTERM or when stdin closes, removing
 * its data.
 *
 * @module
 */

import { startLocalS3 } from "../local/s3.ts";
import { stopWith } from "./child.ts";

if (import.meta.main) {
  const corsOrigins = Deno.args[0]?.split(",").filter(Boolean);
  const s3 = await startLocalS3({ port: 0, corsOrigins });
  console.log(JSON.stringify({ url: s3.url, bucket: s3.bucket }));
  stopWith(() => s3.close());
}
