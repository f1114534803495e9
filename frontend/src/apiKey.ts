// The API key both pages use, kept in this browser's localStorage. `make run` prints a
// dashboard link carrying the demo key in the fragment (never sent to the server), which the
// page stores and then removes from the address bar.
const STORAGE_KEY = "export-gateway:apiKey";

export function storedApiKey(): string {
  try {
    return localStorage.getItem(STORAGE_KEY) ?? "";
  } catch {
    return ""; // storage disabled: the key lives as long as the page
  }
}

export function storeApiKey(key: string): void {
  try {
    if (key) localStorage.setItem(STORAGE_KEY, key);
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage disabled
  }
}

/** Takes `#key=...` from the address, stores it and clears the fragment. */
export function adoptKeyFromLocation(): void {
  const params = new URLSearchParams(window.location.hash.slice(1));
  const key = params.get("key");
  if (key) {
    storeApiKey(key);
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
}
