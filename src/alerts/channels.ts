import { createHmac } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { ChannelConfig } from './config.js';
import { plainText, slackPayload, teamsPayload, title, type AlertNotice } from './notice.js';
import { statusSlack, statusTeams, statusText, type StatusSummary } from './status.js';

/** Everything a channel may be asked to carry. */
export type Outbound =
  | { readonly kind: 'alert'; readonly id: string; readonly notice: AlertNotice }
  | { readonly kind: 'status'; readonly id: string; readonly summary: StatusSummary }
  | {
      readonly kind: 'scorecard';
      readonly id: string;
      readonly subject: string;
      readonly text: string;
      readonly to?: readonly string[];
      readonly attachments: readonly { filename: string; path: string }[];
    };

export interface Channel {
  readonly name: string;
  readonly type: ChannelConfig['type'];
  /** Resolves with the receiver's answer; throws on a failure worth retrying. */
  send(message: Outbound, timeoutMs: number): Promise<{ status: number | null }>;
  close(): void;
}

export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    /** 4xx other than 408/429 will not get better by retrying. */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export function signatureOf(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function openChannel(config: ChannelConfig): Channel {
  switch (config.type) {
    case 'slack':
    case 'teams':
      return httpChannel(config.name, config.type, config.url, (message) => {
        if (message.kind === 'alert')
          return config.type === 'slack' ? slackPayload(message.notice) : teamsPayload(message.notice);
        if (message.kind === 'status')
          return config.type === 'slack' ? statusSlack(message.summary) : statusTeams(message.summary);
        return config.type === 'slack' ? { text: message.text } : { text: message.text };
      });
    case 'webhook':
      return httpChannel(
        config.name,
        'webhook',
        config.url,
        (message) => ({
          kind: message.kind,
          ...(message.kind === 'alert' ? { alert: message.notice } : {}),
          ...(message.kind === 'status' ? { status: message.summary } : {}),
          ...(message.kind === 'scorecard' ? { subject: message.subject, text: message.text } : {}),
        }),
        config.secret,
      );
    case 'email':
      return emailChannel(config);
  }
}

function httpChannel(
  name: string,
  type: 'slack' | 'teams' | 'webhook',
  url: string,
  payload: (message: Outbound) => unknown,
  secret?: string,
): Channel {
  return {
    name,
    type,
    async send(message, timeoutMs) {
      const body = JSON.stringify(payload(message));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'pulse-alerts',
      };
      if (secret !== undefined) {
        // The receiver recomputes the HMAC over timestamp + body and refuses old timestamps (replays).
        const timestamp = String(Math.floor(Date.now() / 1000));
        headers['x-pulse-timestamp'] = timestamp;
        headers['x-pulse-signature'] = signatureOf(secret, timestamp, body);
        headers['x-pulse-delivery'] = message.id;
      }
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        throw new DeliveryError(
          `${name}: ${error instanceof Error ? error.message : String(error)}`,
          null,
          true,
        );
      }
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) {
        const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
        throw new DeliveryError(`${name}: HTTP ${response.status}`, response.status, retryable);
      }
      return { status: response.status };
    },
    close() {},
  };
}

function emailChannel(config: Extract<ChannelConfig, { type: 'email' }>): Channel {
  const transport = nodemailer.createTransport({
    host: config.smtp.host,
    port: config.smtp.port,
    secure: config.smtp.secure,
    ...(config.smtp.user !== undefined
      ? { auth: { user: config.smtp.user, pass: config.smtp.pass ?? '' } }
      : {}),
    // A local relay without TLS is allowed; a remote one offering STARTTLS is used with it.
    ignoreTLS: !config.smtp.secure && ['127.0.0.1', 'localhost', '::1'].includes(config.smtp.host),
  });
  return {
    name: config.name,
    type: 'email',
    async send(message, timeoutMs) {
      const mail =
        message.kind === 'alert'
          ? { subject: `[Pulse] ${title(message.notice)}`, text: plainText(message.notice) }
          : message.kind === 'status'
            ? { subject: `[Pulse] ${message.summary.title}`, text: statusText(message.summary) }
            : {
                subject: message.subject,
                text: message.text,
                attachments: message.attachments.map((a) => ({ ...a, contentType: 'application/pdf' })),
              };
      const to = message.kind === 'scorecard' && message.to && message.to.length > 0 ? message.to : config.to;
      try {
        await withTimeout(transport.sendMail({ from: config.from, to: [...to], ...mail }), timeoutMs);
      } catch (error) {
        const code = (error as { responseCode?: number }).responseCode ?? null;
        throw new DeliveryError(
          `${config.name}: ${error instanceof Error ? error.message : String(error)}`,
          code,
          code === null || code >= 400,
        );
      }
      return { status: 250 };
    },
    close() {
      transport.close();
    },
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
