// Small DOM and fetch helpers the dashboard's page modules share.

/** A new element with `props` set and `children` appended. */
export function element<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]) {
  const el = document.createElement(tag);
  Object.assign(el, props);
  el.append(...children);
  return el;
}

/** GETs JSON from the dashboard's API; a non-2xx answer throws with the server's error message. */
export async function getJson<T>(path: string, params: [string, string][] = []): Promise<T> {
  const query = new URLSearchParams(params).toString();
  const response = await fetch(query ? `${path}?${query}` : path, { cache: "no-store" });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${path}: ${(body as { error?: string }).error ?? response.statusText}`);
  return body as T;
}
