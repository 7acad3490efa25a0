// Writes src/scenario/kafka-config-keys.ts: `node scripts/kafka-config-keys.mjs GIT_DIR > src/scenario/kafka-config-keys.ts`,
// GIT_DIR a clone (or bare mirror) of apache/kafka that has the 3.6.0 tag. The header comment is kept by hand.
// Extracts Kafka 3.6.0's config key names from its sources (a local mirror of apache/kafka).
import { execFileSync } from "node:child_process";
const gitDir = process.argv[2];
const show = (p) => execFileSync("git", ["--git-dir", gitDir, "show", `3.6.0:${p}`], { encoding: "utf8", maxBuffer: 1 << 26 });
const C = "clients/src/main/java/org/apache/kafka";
const javaKeys = (p) => [...show(p).matchAll(/\b([A-Z0-9_]+(?:_CONFIG|_DOC_KEY)?)\s*=\s*"([a-z][a-z0-9.\-]+)"/g)].filter((m) => m[1].endsWith("CONFIG")).map((m) => [m[1], m[2]]);
const common = new Map(javaKeys(`${C}/clients/CommonClientConfigs.java`));
const ssl = javaKeys(`${C}/common/config/SslConfigs.java`).map((e) => e[1]);
const sasl = javaKeys(`${C}/common/config/SaslConfigs.java`).map((e) => e[1]);
function clientKeys(p) {
  const text = show(p);
  const own = new Map(javaKeys(p));
  const keys = new Set([...own.values()]);
  // CommonClientConfigs.X used in the define() block.
  for (const m of text.matchAll(/CommonClientConfigs\.([A-Z0-9_]+_CONFIG)\b/g)) if (common.has(m[1])) keys.add(common.get(m[1]));
  for (const k of [...ssl, ...sasl]) keys.add(k);
  return keys;
}
const producer = clientKeys(`${C}/clients/producer/ProducerConfig.java`);
const consumer = clientKeys(`${C}/clients/consumer/ConsumerConfig.java`);
const topicJava = show(`${C}/common/config/TopicConfig.java`);
const topic = new Set([...topicJava.matchAll(/_CONFIG\s*=\s*"([a-z][a-z0-9.\-]+)"/g)].map((m) => m[1]));
const kc = show("core/src/main/scala/kafka/server/KafkaConfig.scala");
const broker = new Set();
for (const m of kc.matchAll(/val \w+Prop\s*=\s*"([a-z][a-z0-9.\-]+)"/g)) broker.add(m[1]);
for (const m of kc.matchAll(/val \w+Prop\s*=\s*LogConfigPrefix\s*\+\s*"([a-z0-9.\-]+)"/g)) broker.add(`log.${m[1]}`);
for (const m of kc.matchAll(/val \w+Prop\s*=\s*CommonClientConfigs\.([A-Z0-9_]+)/g)) if (common.has(m[1])) broker.add(common.get(m[1]));
const syn = show("server-common/src/main/java/org/apache/kafka/server/config/ServerTopicConfigSynonyms.java");
const topicConst = new Map([...topicJava.matchAll(/([A-Z0-9_]+_CONFIG)\s*=\s*"([a-z][a-z0-9.\-]+)"/g)].map((m) => [m[1], m[2]]));
for (const m of syn.matchAll(/(sameNameWithLogPrefix|sameNameWithLogCleanerPrefix|sameName)\(TopicConfig\.([A-Z0-9_]+)\)/g)) {
  const name = topicConst.get(m[2]); if (!name) continue;
  broker.add(m[1] === "sameName" ? name : m[1] === "sameNameWithLogPrefix" ? `log.${name}` : `log.cleaner.${name}`);
}
for (const m of syn.matchAll(/(singleWithLogPrefix|singleWithLogCleanerPrefix|single)\(TopicConfig\.[A-Z0-9_]+, "([a-z0-9.\-]+)"\)/g)) broker.add(m[1] === "single" ? m[2] : m[1] === "singleWithLogPrefix" ? `log.${m[2]}` : `log.cleaner.${m[2]}`);
for (const m of syn.matchAll(/new ConfigSynonym\("([a-z0-9.\-]+)"/g)) broker.add(`log.${m[1]}`);
const out = (name, set) => `export const ${name}: ReadonlySet<string> = new Set([\n${[...set].sort().map((k) => `  "${k}",`).join("\n")}\n]);\n`;
process.stdout.write(out("KAFKA_PRODUCER_CONFIG_KEYS", producer) + "\n" + out("KAFKA_CONSUMER_CONFIG_KEYS", consumer) + "\n" + out("KAFKA_BROKER_CONFIG_KEYS", broker) + "\n" + out("KAFKA_TOPIC_CONFIG_KEYS", topic));
console.error(producer.size, consumer.size, broker.size, topic.size);
