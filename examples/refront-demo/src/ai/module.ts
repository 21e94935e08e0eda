import { histogramOf, on } from '@refront/core';
import { createInbox, type ModuleRuntime, type ServiceModule } from '@refront/data';
import { requireTenant, Violations } from '@refront/validate';
import { AiServiceDefinition, type Classification } from '../gen/refront/ai/v1/ai.js';
import { TicketClassified, type Urgency } from '../gen/refront/ai/v1/events.js';
import { TicketCreated } from '../gen/refront/tickets/v1/events.js';
import { aiProviderFromEnv } from './config.js';
import { AiReason, classificationNotFound } from './errors.js';
import { aiMigrations } from './migrations.js';
import { type AiProvider, DEFAULT_SUMMARY_LENGTH, type TicketText, toUrgency } from './provider.js';

/**
 * Longest text the on-demand calls take, in characters (what a ticket may hold): the `max_len` of
 * ClassifyRequest and SummarizeRequest in ai.proto. A TicketCreated's description is cut to it.
 */
export const MAX_INPUT_LENGTH = 10_200;

/** Options of {@link createAiModule}. */
export interface AiModuleOptions {
  /**
   * The provider, or a factory called once at registration.
   * @default aiProviderFromEnv(process.env): local unless AI_BASE_URL is set
   */
  readonly provider?: AiProvider | (() => Promise<AiProvider>);
}

interface ClassificationRow {
  ticket_id: string;
  category: string;
  urgency: number;
  summary: string;
  confidence: number;
  provider: string;
  latency_ms: number;
  classified_at: Date;
}

/**
 * The AI service: classifies and summarises every new ticket (TicketCreated → TicketClassified
 * through its outbox, once per ticket even when the event comes twice), stores the results, and
 * answers Classify/Summarize on demand, all through one {@link AiProvider}.
 *
 * @example
 * const modules = [ticketsModule, createAiModule({ provider: await createLocalProvider() })];
 */
export function createAiModule(options: AiModuleOptions = {}): ServiceModule {
  return {
    name: 'ai',
    callers: { gateway: '*' },
    migrations: aiMigrations,
    events: { publishes: [TicketClassified], consumes: [TicketCreated] },
    async register({ name, server, bus, db, outbox, metrics, logger, onClose }: ModuleRuntime) {
      const source = options.provider ?? (() => aiProviderFromEnv(process.env));
      const provider = typeof source === 'function' ? await source() : source;
      onClose(async () => provider.close?.());
      logger.info({ provider: provider.name }, 'AI provider ready');
      const duration = histogramOf(
        metrics,
        'refront_ai_provider_duration_seconds',
        'AI provider call latency',
        ['provider', 'operation', 'outcome'],
      );
      const timed = async <T>(operation: string, fn: () => Promise<T>): Promise<{ value: T; ms: number }> => {
        const started = performance.now();
        let outcome = 'error';
        try {
          const value = await fn();
          outcome = 'ok';
          return { value, ms: performance.now() - started };
        } finally {
          duration.observe(
            { provider: provider.name, operation, outcome },
            (performance.now() - started) / 1_000,
          );
        }
      };
      const classify = async (ticket: TicketText, signal?: AbortSignal): Promise<Classification> => {
        const { value, ms } = await timed('classify', () => provider.classify(ticket, { signal }));
        return {
          category: value.category,
          urgency: toUrgency(value.urgency),
          summary: value.summary,
          confidence: value.confidence,
          provider: provider.name,
          latencyMs: Math.round(ms * 1_000) / 1_000,
        };
      };

      server.add(AiServiceDefinition, {
        // Lengths, a non-blank text and the summary length are the contract's rules (ai.proto),
        // checked before these handlers run.
        async classify(request, ctx) {
          requireTenant(ctx);
          return { classification: await classify(request, ctx.signal) };
        },

        async summarize(request, ctx) {
          requireTenant(ctx);
          const max = request.maxLength === 0 ? DEFAULT_SUMMARY_LENGTH : request.maxLength;
          const { value } = await timed('summarize', () =>
            provider.summarize(request.text, { signal: ctx.signal, maxSummaryLength: max }),
          );
          return { summary: value, provider: provider.name };
        },

        async getTicketClassification(request, ctx) {
          const tenant = requireTenant(ctx);
          const { rows } = await db.query<ClassificationRow>(
            'select * from classifications where tenant_id = $1 and ticket_id = $2',
            [tenant, request.ticketId],
          );
          const row = rows[0];
          if (!row) throw classificationNotFound(request.ticketId);
          return {
            ticketClassification: {
              ticketId: row.ticket_id,
              classifiedAt: row.classified_at,
              classification: {
                category: row.category,
                urgency: row.urgency as Urgency,
                summary: row.summary,
                confidence: row.confidence,
                provider: row.provider,
                latencyMs: row.latency_ms,
              },
            },
          };
        },
      });

      const inbox = createInbox({ db, group: name, metrics, logger });
      await bus.subscribe(name, [
        on(TicketCreated, async (event, context) => {
          const tenant = context.envelope.tenant ?? '';
          new Violations()
            .required('tenant', tenant, 'the envelope names no tenant')
            .required('ticketId', event.ticketId)
            .throwIfAny(AiReason.BAD_TICKET_CREATED, 'TicketCreated is invalid');
          // The provider runs outside the transaction: a remote one may take seconds, and no
          // database lock should wait on it. A redelivery may classify twice; only one is stored.
          const result = await classify(
            { title: event.title, description: event.description.slice(0, MAX_INPUT_LENGTH) },
            context.signal,
          );
          // The AI never lowers the urgency the reporter chose (both scales run low → urgent).
          const urgency = Math.max(result.urgency, event.priority as number) as Urgency;
          await inbox.handleOnce(context.envelope, async (tx) => {
            const { rows } = await tx.query(
              `insert into classifications
                 (tenant_id, ticket_id, category, urgency, summary, confidence, provider, latency_ms, event_id)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               on conflict (tenant_id, ticket_id) do nothing returning seq`,
              [
                tenant,
                event.ticketId,
                result.category,
                urgency,
                result.summary,
                result.confidence,
                result.provider,
                result.latencyMs,
                context.envelope.id,
              ],
            );
            if (rows.length === 0) return; // Already classified (TicketCreated published twice under two ids).
            await outbox.add(
              tx,
              TicketClassified,
              {
                ticketId: event.ticketId,
                category: result.category,
                urgency,
                summary: result.summary,
                confidence: result.confidence,
                provider: result.provider,
              },
              { key: event.ticketId },
            );
          });
        }),
      ]);
    },
  };
}

/** The AI service with the provider the environment configures (local by default). */
export const aiModule: ServiceModule = createAiModule();
