// PostGraphile 5 (Amber preset) with pg-aggregates and the connection filter, serving
// the schema `postgraphile` of DATABASE_URL on 127.0.0.1:PORT at /graphql: the other
// side of api/benches/http_load.sh. One Node process, as PostGraphile runs by default.
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { PgAggregatesPreset } from "@graphile/pg-aggregates";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";

const preset = {
  extends: [PostGraphileAmberPreset, PgAggregatesPreset, PostGraphileConnectionFilterPreset],
  pgServices: [makePgService({ connectionString: process.env.DATABASE_URL, schemas: ["postgraphile"] })],
  grafserv: { graphiql: false, watch: false },
};

const server = createServer();
const serv = postgraphile(preset).createServ(grafserv);
await serv.addTo(server);
server.listen(Number(process.env.PORT), "127.0.0.1", () => console.log("ready"));
