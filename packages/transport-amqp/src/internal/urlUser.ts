/** The user an AMQP URL logs in as: its user name, else `guest` (amqplib's default login). */
export function urlUser(url: string): string {
  const user = new URL(url).username;
  return user ? decodeURIComponent(user) : 'guest';
}
