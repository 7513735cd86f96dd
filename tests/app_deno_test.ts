import { appCases } from "./_app_cases.ts";

appCases("deno");
