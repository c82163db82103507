/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** "1": show "Log in as test user" (dev-up, test-all and compose builds) */
  readonly VITE_DEMO_LOGIN?: string;
}
