import { orderEvent } from './pulse.js';

/** An order.placed event with one line, in any currency and SKU. */
export function order(
  orderId: string,
  options: {
    id?: string;
    placedAt?: string;
    currency?: string;
    sku?: string;
    quantity?: number;
    unitPrice?: number;
    tax?: number;
    promisedDeliveryAt?: string;
  } = {},
) {
  const event = orderEvent({
    id: options.id ?? `evt-${orderId}`,
    orderId,
    placedAt: options.placedAt ?? '2026-03-10T10:00:00Z',
    quantity: options.quantity ?? 1,
    unitPrice: options.unitPrice ?? 10,
  });
  return {
    ...event,
    data: {
      ...event.data,
      currency: options.currency ?? 'EUR',
      promised_delivery_at: options.promisedDeliveryAt ?? event.data.promised_delivery_at,
      lines: [{ ...event.data.lines[0], sku: options.sku ?? 'SKU-1', tax: options.tax ?? 0 }],
    },
  };
}

export function fxRate(currency: string, hour: string, rate: number, id = `evt-fx-${currency}-${hour}`) {
  return {
    specversion: '1.0',
    id,
    source: '/fx',
    type: 'fx.rate',
    time: hour,
    data: { currency, hour, rate_to_eur: rate },
  };
}

export function product(sku: string, category = 'outdoor') {
  return {
    specversion: '1.0',
    id: `evt-product-${sku}`,
    source: '/catalog',
    type: 'product.upserted',
    time: '2026-01-01T00:00:00Z',
    data: {
      sku,
      name: `Product ${sku}`,
      brand: 'aurora',
      category,
      supplier_id: 'SUP-1',
      lead_time_days: 5,
      list_price: 10,
      currency: 'EUR',
      effective_at: '2026-01-01T00:00:00Z',
    },
  };
}

export function delivered(shipmentId: string, orderId: string, at: string) {
  return {
    specversion: '1.0',
    id: `evt-delivered-${shipmentId}`,
    source: '/carrier',
    type: 'shipment.delivered',
    time: at,
    data: { shipment_id: shipmentId, order_id: orderId, delivered_at: at },
  };
}
