using Jint;
using Jint.Native;
using Jint.Runtime.Interop;

namespace Edge.Restrictions.Policy.Store;

/// <summary>
/// The <c>store</c> object of policy scripts, over the configured <see cref="IPolicyStore"/> (edge_policy_store). Every
/// method returns a promise, whatever the store, so that a script is written once (<c>await store.get(key)</c>):
/// <list type="bullet">
/// <item><c>store.get(key)</c>: the value (a string), or null when there is none or it expired.</item>
/// <item><c>store.set(key, value, seconds)</c>: remembers the value, as a string, for that long.</item>
/// <item><c>store.increment(key, seconds)</c>: adds one to a counter that lives <c>seconds</c> from its first
/// increment, atomically even between Edge servers sharing a Redis store, and returns the new count.</item>
/// </list>
/// </summary>
internal static class PolicyStoreObject
{
    public static JsObject Create(Engine engine, IPolicyStore store, ScriptAwaits awaits)
    {
        var result = new JsObject(engine);
        result.Set("get", new ClrFunction(engine, "get", (_, a) =>
            awaits.Promise(store.GetAsync(Argument(a, 0).ToString()), value => value is null ? JsValue.Null : value), 1));
        result.Set("set", new ClrFunction(engine, "set", (_, a) =>
            awaits.Promise(Done(store.SetAsync(Argument(a, 0).ToString(), Argument(a, 1).ToString(), Seconds(Argument(a, 2)))), _ => JsValue.Undefined), 3));
        result.Set("increment", new ClrFunction(engine, "increment", (_, a) =>
            awaits.Promise(store.IncrementAsync(Argument(a, 0).ToString(), Seconds(Argument(a, 1))), count => count), 2));
        return result;
    }

    private static async ValueTask<bool> Done(ValueTask work)
    {
        await work;
        return true;
    }

    private static JsValue Argument(JsValue[] arguments, int index) => index < arguments.Length ? arguments[index] : JsValue.Undefined;

    /// <summary>A lifetime in seconds; what is not a number is no time at all.</summary>
    private static double Seconds(JsValue value) => value.IsNumber() ? value.AsNumber() : 0;
}
