import localFont from 'next/font/local';
import type { Metadata } from 'next';
import { connection } from 'next/server';
import type { ReactNode } from 'react';

import './globals.css';

// Served from the npm package: nothing is fetched from the internet at build or run time.
const inter = localFont({
  src: '../node_modules/@fontsource-variable/inter/files/inter-latin-wght-normal.woff2',
  display: 'swap',
  variable: '--font-inter',
});

export const metadata: Metadata = {
  title: 'Inkwell',
  description: 'Real-time collaborative documents',
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Every page carries its request's CSP nonce (proxy.ts), so none may be prerendered
  // at build time: a prerendered page's scripts would have no nonce and be blocked.
  await connection();
  return (
    <html lang="en" className={inter.variable}>
      <body>{children}</body>
    </html>
  );
}
